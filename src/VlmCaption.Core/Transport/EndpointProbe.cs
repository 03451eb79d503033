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
    /// <summary>Test-VlmEndpoint's checks: the server answers, lists the model, and the model really sees an image.</summary>
    public static class EndpointProbe
    {
        private static readonly (string Name, Rgba32 Value)[] Colours =
        {
            ("red", new Rgba32(255, 0, 0)), ("green", new Rgba32(0, 255, 0)), ("blue", new Rgba32(0, 0, 255)), ("yellow", new Rgba32(255, 255, 0)),
        };

        /// <summary>Runs every check it can and says what is wrong; never throws for a server problem.</summary>
        public static async Task<EndpointTestResult> TestAsync(string baseUrl, string apiKey, string model, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var result = new EndpointTestResult { BaseUrl = baseUrl, Model = model };
            var diagnosis = new List<string>();
            if (EndpointUrl.Problem(baseUrl) is string problem)
            {
                result.Diagnosis = new[] { problem };
                return result;
            }

            try
            {
                await ProbeAsync(result, apiKey, timeout, diagnosis, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                result.Diagnosis = diagnosis.ToArray();
                result.Passed = diagnosis.Count == 0;
            }

            return result;
        }

        private static async Task ProbeAsync(EndpointTestResult result, string apiKey, TimeSpan timeout, List<string> diagnosis, CancellationToken cancellationToken)
        {
            try
            {
                IReadOnlyList<VlmModel> models = await ModelLister.ListAsync(result.BaseUrl, apiKey, timeout, cancellationToken).ConfigureAwait(false);
                result.Reachable = true;
                result.ListedModels = models.Select(m => m.Id).ToArray();
                if (result.Model.Length == 0)
                {
                    if (models.Count != 1)
                    {
                        diagnosis.Add($"Name the model to test with -Model; the server {(models.Count == 0 ? "lists none (is one loaded?)" : "lists " + string.Join(", ", result.ListedModels))}.");
                        return;
                    }

                    result.Model = models[0].Id;
                }

                result.ModelListed = Preflight.IsListed(models, result.Model);
                if (result.ModelListed == false)
                {
                    diagnosis.Add($"The model '{result.Model}' is not listed; the server lists {(models.Count == 0 ? "none (is one loaded?)" : string.Join(", ", result.ListedModels))}.");
                }
            }
            catch (CaptionException e)
            {
                result.Reachable = e.ErrorId != "ConnectionFailed" && e.ErrorId != "RequestTimedOut";
                diagnosis.Add(e.Message);
                if (!result.Reachable || e.StatusCode is 401 or 403 || result.Model.Length == 0)
                {
                    return;
                }
            }

            await VisionAsync(result, apiKey, timeout, diagnosis, cancellationToken).ConfigureAwait(false);
        }

        private static async Task VisionAsync(EndpointTestResult result, string apiKey, TimeSpan timeout, List<string> diagnosis, CancellationToken cancellationToken)
        {
            (string colour, Rgba32 value) = Colours[new Random().Next(Colours.Length)];
            var settings = new CaptionSettings { BaseUrl = result.BaseUrl, Model = result.Model, ApiKey = apiKey, MaxTokens = 1024, MaxRetries = 0, Timeout = timeout };
            var endpoint = new ChatEndpoint(settings, result.BaseUrl);
            var messages = new[] { ChatMessage.User("What colour is this square? Answer with one word.", Square(value)) };
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
