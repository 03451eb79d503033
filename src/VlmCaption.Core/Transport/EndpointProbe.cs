using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using VlmCaption.Conversation;
using VlmCaption.Images;

namespace VlmCaption.Transport
{
    /// <summary>
    /// Test-VlmEndpoint's checks: the server answers, lists the model, and the model really sees an image, asked
    /// with what a run would send (answer limit and its field, system prompt, temperature, reasoning, extra body),
    /// so the check cannot pass while the run fails every image.
    /// </summary>
    public static class EndpointProbe
    {
        private static readonly (string Name, Rgba32 Value)[] Colours =
        {
            ("red", new Rgba32(255, 0, 0)), ("green", new Rgba32(0, 255, 0)), ("blue", new Rgba32(0, 0, 255)), ("yellow", new Rgba32(255, 255, 0)),
        };

        /// <summary>Runs every check it can against <see cref="CaptionSettings.BaseUrl"/> and says what is wrong; never throws for a server problem.</summary>
        /// <param name="settings">What the run would send; an empty model means the only one listed.</param>
        /// <param name="cancellationToken">Cancels the checks.</param>
        public static async Task<EndpointTestResult> TestAsync(CaptionSettings settings, CancellationToken cancellationToken)
        {
            var result = new EndpointTestResult { BaseUrl = EndpointUrl.Display(settings.BaseUrl), Model = settings.Model };
            var diagnosis = new List<string>();
            var notes = new List<string>();
            if (EndpointUrl.Problem(settings.BaseUrl) is string problem)
            {
                result.Diagnosis = new[] { problem };
                return result;
            }

            try
            {
                await ProbeAsync(result, settings, diagnosis, notes, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                result.Diagnosis = diagnosis.ToArray();
                result.Notes = notes.ToArray();
                result.Passed = diagnosis.Count == 0;
            }

            return result;
        }

        private static async Task ProbeAsync(EndpointTestResult result, CaptionSettings settings, List<string> diagnosis, List<string> notes, CancellationToken cancellationToken)
        {
            string model = result.Model;
            try
            {
                var warnings = new List<string>();
                PreflightResult checkedModel = await Preflight.CheckAsync(new[] { settings.BaseUrl }, settings.ApiKey, model, settings.Timeout, warnings, warnings.Add, settings.Proxy, cancellationToken).ConfigureAwait(false);
                notes.AddRange(warnings);
                result.Reachable = true;
                result.Model = checkedModel.Model;
                result.ModelListed = checkedModel.ModelListedByEndpoint.TryGetValue(settings.BaseUrl, out bool listed) && listed ? true : (bool?)null;
                model = checkedModel.ModelByEndpoint.TryGetValue(settings.BaseUrl, out string? id) ? id : checkedModel.Model;
                if (result.ModelListed == true)
                {
                    result.ListedModels = (await ModelLister.ListAsync(settings.BaseUrl, settings.ApiKey, settings.Timeout, cancellationToken, settings.Proxy).ConfigureAwait(false))
                        .Take(ModelMatch.MaxNamesShown).Select(m => m.Id).ToArray();
                }
            }
            catch (CaptionException e)
            {
                result.Reachable = e.ErrorId != "ConnectionFailed" && e.ErrorId != "RequestTimedOut";
                result.ModelListed = e.ErrorId is "ModelNotFound" or "ModelAmbiguous" ? false : (bool?)null;
                diagnosis.Add(e.Message);
                if (!result.Reachable || e.StatusCode is 401 or 403 or 404 || e.ErrorId is "ModelNotSpecified" or "InvalidBaseUrl" || result.Model.Length == 0)
                {
                    return;
                }
            }

            await VisionAsync(result, settings, model, diagnosis, notes, cancellationToken).ConfigureAwait(false);
        }

        private static async Task VisionAsync(EndpointTestResult result, CaptionSettings settings, string model, List<string> diagnosis, List<string> notes, CancellationToken cancellationToken)
        {
            (string colour, Rgba32 value) = Colours[new Random().Next(Colours.Length)];
            CaptionSettings probe = settings with { Model = model, MaxRetries = 0 };
            var endpoint = new ChatEndpoint(probe, settings.BaseUrl, model, result.ModelListed ?? false) { Notice = notes.Add };
            var messages = new List<ChatMessage>();
            if (settings.SystemPrompt.Length > 0)
            {
                messages.Add(ChatMessage.System(settings.SystemPrompt));
            }

            messages.Add(ChatMessage.User("What colour is this square? Answer with one word.", Square(value)));
            var clock = Stopwatch.StartNew();
            ChatAnswer answer;
            try
            {
                answer = await endpoint.CompleteAsync(messages, null, cancellationToken).ConfigureAwait(false);
            }
            catch (CaptionException e)
            {
                diagnosis.Add($"A chat request with an image failed: {e.Message}");
                return;
            }

            result.LatencyMs = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
            result.ReportsUsage = answer.PromptTokens is not null || answer.CompletionTokens is not null;
            result.ThinkTags = answer.Content.IndexOf("<think>", StringComparison.Ordinal) >= 0 || answer.Content.IndexOf("</think>", StringComparison.Ordinal) >= 0;
            result.ReasoningContent = !string.IsNullOrEmpty(answer.ReasoningContent);
            result.Answer = AnswerCleaner.Clean(answer.Content);
            try
            {
                AnswerCheck.Check(answer, result.Answer, "the test image", endpoint.Quirks.MaxTokens, notes.Add);
            }
            catch (CaptionException e)
            {
                diagnosis.Add(e.Message);
                return;
            }

            if (AnswerCheck.Classify(answer.FinishReason) == AnswerCheck.Outcome.Truncated)
            {
                diagnosis.Add($"The answer was cut off by the answer limit of {endpoint.Quirks.MaxTokens} tokens (finish_reason '{answer.FinishReason}'): captions would be too. Raise -MaxTokens.");
            }

            result.SeesImages = result.Answer.IndexOf(colour, StringComparison.OrdinalIgnoreCase) >= 0;
            if (result.SeesImages == false)
            {
                diagnosis.Add($"Shown a {colour} square, the model answered '{Shorten(result.Answer)}': it ignored the image. Load a vision model (e.g. Qwen2.5-VL, Gemma 3, Llama 4), or its vision projector (mmproj for llama.cpp).");
            }
        }

        private static PreparedImage Square(Rgba32 colour)
        {
            using var image = new Image<Rgba32>(64, 64, colour);
            using var output = new MemoryStream();
            image.SaveAsPng(output);
            return new PreparedImage(output.ToArray(), "image/png", 64, 64);
        }

        private static string Shorten(string text) => text.Length <= 80 ? text : text.Substring(0, 80) + "…";
    }
}
