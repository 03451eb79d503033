using System.Text;
using System.Text.Json;
using VlmCaption.Images;
using VlmCaption.Transport;
using Xunit;

namespace VlmCaption.Tests;

public class ChatWireTests
{
    private static PreparedImage Image() => new(new byte[] { 1, 2, 3, 4 }, "image/png", 2, 2);

    [Fact]
    public void Request_has_the_original_layout_and_max_tokens()
    {
        var settings = new CaptionSettings { Model = "m", MaxTokens = 77 };
        var messages = new[]
        {
            ChatMessage.System("sys"),
            ChatMessage.User("hint\n\n\nprompt é <b>", Image()),
            ChatMessage.Assistant("answer"),
            ChatMessage.User("second"),
        };
        string json = Encoding.UTF8.GetString(ChatRequestWriter.Write(settings, new EndpointQuirks(settings, settings.Model), messages).Span);
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        Assert.Equal("m", root.GetProperty("model").GetString());
        Assert.Equal(77, root.GetProperty("max_tokens").GetInt32());
        Assert.False(root.TryGetProperty("max_completion_tokens", out _));
        Assert.False(root.TryGetProperty("temperature", out _));
        JsonElement[] list = root.GetProperty("messages").EnumerateArray().ToArray();
        Assert.Equal(["system", "user", "assistant", "user"], list.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("sys", list[0].GetProperty("content").GetString());
        JsonElement[] parts = list[1].GetProperty("content").EnumerateArray().ToArray();
        Assert.Equal("text", parts[0].GetProperty("type").GetString());
        Assert.Equal("hint\n\n\nprompt é <b>", parts[0].GetProperty("text").GetString());
        Assert.Equal("image_url", parts[1].GetProperty("type").GetString());
        Assert.Equal("data:image/png;base64,AQIDBA==", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("second", list[3].GetProperty("content").GetString());

        // Non-ASCII text goes as is, not as \uXXXX escapes.
        Assert.Contains("prompt é <b>", json);
    }

    [Fact]
    public void Max_completion_tokens_and_temperature_when_asked()
    {
        var settings = new CaptionSettings { Model = "m", MaxTokens = 5, UseMaxCompletionTokens = true, Temperature = 0.25 };
        using JsonDocument doc = JsonDocument.Parse(ChatRequestWriter.Write(settings, new EndpointQuirks(settings, "m"), [ChatMessage.User("x")]));
        Assert.Equal(5, doc.RootElement.GetProperty("max_completion_tokens").GetInt32());
        Assert.False(doc.RootElement.TryGetProperty("max_tokens", out _));
        Assert.Equal(0.25, doc.RootElement.GetProperty("temperature").GetDouble());
        Assert.False(doc.RootElement.TryGetProperty("reasoning_effort", out _));
    }

    [Fact]
    public void Reasoning_effort_and_the_extra_body_are_sent_when_asked_and_the_extra_body_wins()
    {
        var extra = new Dictionary<string, object?>
        {
            ["chat_template_kwargs"] = new Dictionary<string, object?> { ["enable_thinking"] = false },
            ["top_p"] = 0.9,
            ["seed"] = 1,
            ["stop"] = new List<object?> { "###", null },
            ["max_tokens"] = 12,
        };
        var settings = new CaptionSettings { Model = "m", MaxTokens = 5, ReasoningEffort = "none", ExtraBody = extra };
        string json = Encoding.UTF8.GetString(ChatRequestWriter.Write(settings, new EndpointQuirks(settings, "listed/m"), [ChatMessage.User("x")]).Span);
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        Assert.Equal("listed/m", root.GetProperty("model").GetString());
        Assert.Equal("none", root.GetProperty("reasoning_effort").GetString());
        Assert.False(root.GetProperty("chat_template_kwargs").GetProperty("enable_thinking").GetBoolean());
        Assert.Equal(0.9, root.GetProperty("top_p").GetDouble());
        Assert.Equal(1, root.GetProperty("seed").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("stop")[1].ValueKind);
        Assert.Equal(12, root.GetProperty("max_tokens").GetInt32());
        Assert.Single(root.EnumerateObject(), p => p.Name == "max_tokens");
    }

    [Fact]
    public void Answer_is_read_with_usage_and_reasoning()
    {
        ChatAnswer answer = ChatAnswer.Parse(Encoding.UTF8.GetBytes(
            """{"choices":[{"message":{"role":"assistant","content":"A cat.","reasoning_content":"hm"},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":3}}"""));
        Assert.Equal("A cat.", answer.Content);
        Assert.Equal("hm", answer.ReasoningContent);
        Assert.Equal("length", answer.FinishReason);
        Assert.Equal(12, answer.PromptTokens);
        Assert.Equal(3, answer.CompletionTokens);
    }

    [Fact]
    public void Content_given_as_parts_is_joined()
    {
        ChatAnswer answer = ChatAnswer.Parse(Encoding.UTF8.GetBytes(
            """{"choices":[{"message":{"content":[{"type":"text","text":"A "},{"type":"text","text":"cat."}]}}]}"""));
        Assert.Equal("A cat.", answer.Content);
        Assert.Null(answer.PromptTokens);
    }

    [Theory]
    [InlineData("{\"choices\": [")]
    [InlineData("{\"choices\": []}")]
    [InlineData("[1,2]")]
    public void Malformed_answers_are_format_errors(string body) =>
        Assert.Throws<FormatException>(() => ChatAnswer.Parse(Encoding.UTF8.GetBytes(body)));

    [Theory]
    [InlineData("{\"error\":{\"message\":\"model not loaded\"}}", "model not loaded")]
    [InlineData("{\"error\":\"bad key sk-123\"}", "bad key ***")]
    [InlineData("{\"detail\":\"Not Found\"}", "Not Found")]
    // An HTML page (a proxy or web server in front of the API) is told by its title, or its text without markup.
    [InlineData("<html>oops</html>", "oops")]
    [InlineData("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>", "an HTML page titled '502 Bad Gateway'")]
    public void Server_error_text_is_extracted_and_the_key_redacted(string body, string expected) =>
        Assert.Equal(expected, ServerError.Redact(ServerError.ReadMessage(Encoding.UTF8.GetBytes(body)), "sk-123"));
}
