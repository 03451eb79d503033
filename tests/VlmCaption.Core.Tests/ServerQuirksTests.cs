using System.Text;
using VlmCaption.Conversation;
using VlmCaption.Transport;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>The readings of what real servers answer, each with the text that server sends (sources in the code).</summary>
public class ServerQuirksTests
{
    private static EndpointQuirks Sent(bool maxCompletion = false, double? temperature = null, int maxTokens = 4096) =>
        new(new CaptionSettings { Model = "m", UseMaxCompletionTokens = maxCompletion, Temperature = temperature, MaxTokens = maxTokens }, "m");

    [Theory]
    [InlineData(400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", false, null, "UseMaxCompletionTokens")]
    [InlineData(422, "body.max_completion_tokens: Extra inputs are not permitted (extra_forbidden)", true, null, "UseMaxTokens")]
    [InlineData(400, "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.", false, 0.2, "DropTemperature")]
    [InlineData(400, "'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum context length is 4096 tokens and your request has 2778 input tokens (8000 > 4096 - 2778). None", false, null, "LowerLimit")]
    [InlineData(400, "This model's maximum context length is 4096 tokens. However, you requested 10778 tokens (2778 in the messages, 8000 in the completion).", false, null, "LowerLimit")]
    [InlineData(400, "Invalid image", false, null, null)]
    [InlineData(500, "Unsupported parameter: 'max_tokens'", false, null, null)]
    [InlineData(400, "Unsupported value: 'temperature' does not support 0.2", false, null, null)]
    public void Refusals_name_the_change_that_fixes_them(int status, string text, bool maxCompletion, double? temperature, string? expected)
    {
        RequestAdjustment.Change? change = RequestAdjustment.Read(status, text, Sent(maxCompletion, temperature, 8000));
        Assert.Equal(expected, change?.Kind.ToString());
        if (expected == "LowerLimit")
        {
            Assert.Equal(4096 - 2778, change!.Limit);
        }
    }

    [Fact]
    public void A_change_is_applied_once_and_a_limit_only_ever_lowered()
    {
        EndpointQuirks quirks = Sent(maxTokens: 8000);
        var lower = new RequestAdjustment.Change(RequestAdjustment.ChangeKind.LowerLimit, "") { Limit = 1000 };
        Assert.True(quirks.Apply(lower));
        Assert.False(quirks.Apply(lower));
        Assert.False(quirks.Apply(new RequestAdjustment.Change(RequestAdjustment.ChangeKind.LowerLimit, "") { Limit = 3000 }));
        Assert.Equal(1000, quirks.MaxTokens);
        Assert.True(quirks.Apply(new RequestAdjustment.Change(RequestAdjustment.ChangeKind.UseMaxCompletionTokens, "")));
        Assert.False(quirks.Snapshot().SameRequestAs(Sent(maxTokens: 1000)));
    }

    private static List<VlmModel> Listed(string ownedBy, params string[] ids) => ids.Select(id => new VlmModel { Id = id, OwnedBy = ownedBy }).ToList();

    [Theory]
    [InlineData("vllm", "Qwen/Qwen2.5-VL-7B-Instruct", "Qwen/Qwen2.5-VL-7B-Instruct", "Qwen/Qwen2.5-VL-7B-Instruct", false)]
    [InlineData("vllm", "Qwen/Qwen2.5-VL-7B-Instruct", "qwen2.5-vl-7b-instruct", "Qwen/Qwen2.5-VL-7B-Instruct", true)]
    [InlineData("openrouter", "qwen/qwen2.5-vl-72b-instruct", "Qwen/Qwen2.5-VL-72B-Instruct", "qwen/qwen2.5-vl-72b-instruct", true)]
    [InlineData("library", "qwen2.5vl:latest", "qwen2.5vl", "qwen2.5vl", false)]
    [InlineData("google", "models/gemini-2.5-flash", "gemini-2.5-flash", "gemini-2.5-flash", false)]
    [InlineData("llamacpp", "gemma-3-4b-it-Q4_K_M.gguf", "anything", "anything", false)]
    [InlineData("koboldcpp", "koboldcpp/gemma3", "gemma", "gemma", false)]
    public void Names_resolve_as_the_servers_resolve_them(string ownedBy, string listed, string typed, string sent, bool noted)
    {
        // Single-model servers list one entry; the others list more than the one wanted.
        List<VlmModel> models = ownedBy is "llamacpp" or "koboldcpp" ? Listed(ownedBy, listed) : Listed(ownedBy, listed, "other/thing");
        (string model, string? note) = ModelMatch.Resolve(models, typed, "http://h/v1");
        Assert.Equal(sent, model);
        Assert.Equal(noted, note is not null);
    }

    [Fact]
    public void Ambiguous_and_unknown_names_say_what_is_listed_in_a_bounded_message()
    {
        var ambiguous = Assert.Throws<CaptionException>(() => ModelMatch.Resolve(Listed("vllm", "a/Model", "b/model"), "model", "u"));
        Assert.Equal("ModelAmbiguous", ambiguous.ErrorId);
        Assert.Contains("a/Model, b/model", ambiguous.Message);

        var many = Listed("openrouter", Enumerable.Range(0, 200_000).Select(i => $"v/m{i}").ToArray());
        var unknown = Assert.Throws<CaptionException>(() => ModelMatch.Resolve(many, "nothing", "u"));
        Assert.Equal("ModelNotFound", unknown.ErrorId);
        Assert.True(unknown.Message.Length < 2000, $"{unknown.Message.Length} characters");
        Assert.Contains("and 199970 more", unknown.Message);

        // A llama-server router (entries with a status) does not serve any name.
        var router = new List<VlmModel> { new() { Id = "a.gguf", OwnedBy = "llamacpp", Status = "loaded" } };
        Assert.Throws<CaptionException>(() => ModelMatch.Resolve(router, "b", "u"));
    }

    [Theory]
    [InlineData("stop", "Complete")]
    [InlineData("", "Complete")]
    [InlineData("end_turn", "Complete")]
    [InlineData("length", "Truncated")]
    [InlineData("model_length", "Truncated")]
    [InlineData("max_tokens", "Truncated")]
    [InlineData("error", "Failed")]
    [InlineData("abort", "Failed")]
    [InlineData("content_filter", "Failed")]
    [InlineData("something_new", "Unknown")]
    public void Finish_reasons_read_as_the_servers_mean_them(string reason, string outcome) =>
        Assert.Equal(outcome, AnswerCheck.Classify(reason).ToString());

    [Theory]
    [InlineData("""{"error":{"message":"m1","type":"t"}}""", "m1")]
    [InlineData("""{"error":"m2"}""", "m2")]
    [InlineData("""{"object":"error","message":"m3","type":"BadRequestError"}""", "m3")]
    [InlineData("""[{"error":{"code":400,"message":"m4","status":"INVALID_ARGUMENT"}}]""", "m4")]
    [InlineData("""{"detail":[{"type":"missing","loc":["body","messages"],"msg":"Field required"}]}""", "body.messages: Field required (missing)")]
    [InlineData("""{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","max_completion_tokens"],"msg":"Extra inputs are not permitted"}]}}""", "body.max_completion_tokens: Extra inputs are not permitted (extra_forbidden)")]
    [InlineData("""{"detail":{"msg":"Server is busy; please try again later.","type":"service_unavailable"}}""", "Server is busy; please try again later.")]
    [InlineData("plain text", "plain text")]
    public void Error_texts_are_found_in_every_shape_servers_use(string body, string expected) =>
        Assert.Equal(expected, ServerError.ReadMessage(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Answers_keep_reasoning_apart_in_every_shape_and_read_choice_errors()
    {
        ChatAnswer magistral = ChatAnswer.Parse(Encoding.UTF8.GetBytes(
            """{"choices":[{"message":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"hmm"}]},{"type":"text","text":"A cat."}]},"finish_reason":"stop"}]}"""));
        Assert.Equal("A cat.", magistral.Content);
        Assert.Equal("hmm", magistral.ReasoningContent);

        ChatAnswer ollama = ChatAnswer.Parse(Encoding.UTF8.GetBytes("""{"choices":[{"message":{"content":"","reasoning":"think"},"finish_reason":"length"}]}"""));
        Assert.Equal("think", ollama.ReasoningContent);

        ChatAnswer openai = ChatAnswer.Parse(Encoding.UTF8.GetBytes("""{"choices":[{"message":{"content":""},"finish_reason":"length"}],"usage":{"completion_tokens":50,"completion_tokens_details":{"reasoning_tokens":50}}}"""));
        Assert.Equal(50, openai.ReasoningTokens);
        var e = Assert.Throws<CaptionException>(() => AnswerCheck.Check(openai, "", "x", 50, null));
        Assert.Equal("ReasoningOnly", e.ErrorId);

        ChatAnswer openrouter = ChatAnswer.Parse(Encoding.UTF8.GetBytes("""{"choices":[{"message":{"content":"par"},"finish_reason":"error","error":{"code":502,"message":"provider down"}}]}"""));
        Assert.Equal("provider down", openrouter.ChoiceError);
        Assert.Equal("AnswerFailed", Assert.Throws<CaptionException>(() => AnswerCheck.Check(openrouter, "par", "x", 50, null)).ErrorId);

        Assert.Throws<ServerErrorAnswer>(() => ChatAnswer.Parse(Encoding.UTF8.GetBytes("""{"error":{"message":"Vision add-on is not loaded"}}""")));
    }

    [Fact]
    public void An_answer_that_is_not_valid_UTF8_is_a_protocol_error_of_the_server()
    {
        byte[] body = Encoding.UTF8.GetBytes("""{"choices":[{"message":{"content":"A cat XX."},"finish_reason":"stop"}]}""");
        int at = Array.IndexOf(body, (byte)'X');
        body[at] = 0xC3;
        body[at + 1] = 0x28;
        var e = Assert.Throws<FormatException>(() => ChatAnswer.Parse(body));
        Assert.Contains("not valid", e.Message);
    }

    [Theory]
    [InlineData(500, "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj", "ModelHasNoVision", true)]
    [InlineData(400, "'max_tokens' is too large: 16384. This model's maximum context length is 100 tokens and your request has 200 input tokens", "RequestRejected", true)]
    [InlineData(400, "Invalid JSON payload received. Unknown name \"top_k\": Cannot find field.", "RequestRejected", true)]
    [InlineData(400, "The image is corrupt", "RequestFailed", false)]
    [InlineData(503, "Server is busy", "RequestFailed", false)]
    [InlineData(401, "Incorrect API key", "RequestFailed", true)]
    public void Failures_say_whether_they_will_be_the_same_for_every_image(int status, string text, string id, bool same)
    {
        CaptionException e = ServerFailure.FromAnswer(status, "", text, "http://h/v1");
        Assert.Equal(id, e.ErrorId);
        Assert.Equal(same, e.SameForEveryImage);
    }
}
