using System;
using System.ClientModel;
using System.IO;
using System.Net.Http;

namespace VlmCaption.Transport
{
    /// <summary>
    /// Turns what a server answered, or failed to, into a <see cref="CaptionException"/> that says what happened,
    /// whether trying again can help, and whether it will be the same for every image.
    /// </summary>
    internal static class ServerFailure
    {
        /// <summary>A failing answer: status, the server's text (key redacted) and advice.</summary>
        /// <param name="status">The HTTP status (200 for an error object sent with success).</param>
        /// <param name="reason">The reason phrase, if any.</param>
        /// <param name="serverText">The server's error text, already redacted.</param>
        /// <param name="baseUrl">The endpoint.</param>
        /// <param name="modelListed">For chat: true when the model list named the model, null when no list was read.</param>
        public static CaptionException FromAnswer(int status, string reason, string serverText, string baseUrl, bool? modelListed = null)
        {
            if (status == 407)
            {
                // A proxy on the way (squid, a company's) wants to know who is there; its page says nothing more.
                return new CaptionException("ProxyAuthenticationRequired", CaptionErrorCategory.AuthenticationError, $"The proxy on the way to {baseUrl} answered HTTP 407 Proxy Authentication Required: it asks who is there. Give -ProxyCredential (a user and password), or -ProxyUseDefaultCredentials (proxy_use_default_credentials: true) to sign in as the current user.")
                {
                    StatusCode = status,
                    SameForEveryImage = true,
                };
            }

            string lower = serverText.ToLowerInvariant();
            string said = serverText.Length > 0 ? $": {serverText.TrimEnd('.')}." : ".";
            string answered = status == 200 ? $"{baseUrl} answered HTTP 200 with an error" : $"{baseUrl} answered HTTP {status} {reason}".TrimEnd();

            // llama.cpp without --mmproj (server-common.cpp, HTTP 500), LM Studio (lmstudio-bug-tracker#908, lms#362),
            // OpenAI and vLLM for text-only models (vllm-project/vllm#11629).
            if (lower.Contains("image input is not supported") || lower.Contains("mmproj") || lower.Contains("does not support images")
                || lower.Contains("vision add-on") || lower.Contains("not a multimodal model") || lower.Contains("image_url is only supported"))
            {
                return new CaptionException("ModelHasNoVision", CaptionErrorCategory.InvalidOperation, $"{answered}{said} The model cannot read images: load a vision model (e.g. Qwen2.5-VL, Gemma 3), or give llama.cpp its vision projector (--mmproj).")
                {
                    StatusCode = status,
                    SameForEveryImage = true,
                };
            }

            // vLLM's --limit-mm-per-prompt (1 image by default): "At most 1 image(s) may be provided in one request."
            // (vllm-project/vllm#13513), later "You set image=2 (or defaulted to 1) in `--limit-mm-per-prompt`, but
            // passed 3 image items in the same prompt." A clip's frames are images: every clip fails alike.
            if (lower.Contains("image(s) may be provided in one request") || (lower.Contains("limit-mm-per-prompt") && lower.Contains("image items")))
            {
                return new CaptionException("TooManyImages", CaptionErrorCategory.LimitsExceeded, $"{answered}{said} The server takes fewer images in one request than a clip's frames: lower clip_frames (-ClipFrames) to what it takes, or start vLLM with a higher --limit-mm-per-prompt (e.g. '{{\"image\": 16}}').")
                {
                    StatusCode = status,
                    SameForEveryImage = true,
                };
            }

            if (status == 200)
            {
                return new CaptionException("RequestFailed", CaptionErrorCategory.ProtocolError, $"{answered}{said}") { StatusCode = status, SameForEveryImage = true };
            }

            string advice = status switch
            {
                401 or 403 => " Check the API key.",
                404 when modelListed == true => " The model list named this model but the chat endpoint does not know it: the two disagree. The model may have been unloaded, or the server wants another name (Get-VlmModel lists them).",
                404 when modelListed == false => " The model list could not be read, so the name could not be checked: check the model name and that the URL ends in /v1.",
                404 => " Check that the URL ends in /v1 and that the model name is one the server lists.",
                _ => "",
            };
            CaptionErrorCategory category = status switch
            {
                401 or 403 => CaptionErrorCategory.AuthenticationError,
                404 => CaptionErrorCategory.ObjectNotFound,
                408 => CaptionErrorCategory.OperationTimeout,
                429 or 503 => CaptionErrorCategory.ResourceUnavailable,
                _ => CaptionErrorCategory.ProtocolError,
            };

            // A refusal of the request itself (a field, the context size) comes back for every image alike.
            bool aboutTheRequest = (status == 400 || status == 422) && NamesARequestField(lower);
            return new CaptionException(aboutTheRequest ? "RequestRejected" : "RequestFailed", category, $"{answered}{said}{advice}")
            {
                StatusCode = status,
                SameForEveryImage = aboutTheRequest || status is 401 or 403 or 404,
            };
        }

        /// <summary>True when the text is llama.cpp's "Loading model" (503 on every route while it loads).</summary>
        public static bool IsLoading(int status, string serverText) =>
            status == 503 && serverText.IndexOf("loading", StringComparison.OrdinalIgnoreCase) >= 0;

        /// <summary>A timeout or a connection failure as an error with a diagnosis; null for anything else.</summary>
        public static CaptionException? FromTransport(Exception e, string baseUrl, TimeSpan timeout)
        {
            if (e is OperationCanceledException)
            {
                return new CaptionException("RequestTimedOut", CaptionErrorCategory.OperationTimeout, $"{baseUrl} sent nothing for {timeout.TotalSeconds:0} s (-TimeoutSec, the longest silence allowed). A slow server, or one that takes long to read a large image, needs a higher -TimeoutSec.", e);
            }

            if (e is HttpRequestException || e is IOException || (e is ClientResultException c && c.Status == 0))
            {
                Exception innermost = e;
                while (innermost.InnerException is not null)
                {
                    innermost = innermost.InnerException;
                }

                string reason = innermost.Message.Trim().TrimEnd('.');
                string advice = EndpointUrl.IsLmStudioDefault(baseUrl)
                    ? " Is LM Studio's server started? It is off by default: start it in the Developer tab or with 'lms server start'."
                    : " Is the server started and listening there?";
                return new CaptionException("ConnectionFailed", CaptionErrorCategory.ConnectionError, $"Could not reach {baseUrl}: {reason}.{advice}", e);
            }

            return null;
        }

        private static bool NamesARequestField(string lower) =>
            lower.Contains("max_tokens") || lower.Contains("max_completion_tokens") || lower.Contains("temperature") || lower.Contains("reasoning_effort")
            || lower.Contains("chat_template_kwargs") || lower.Contains("extra_forbidden") || lower.Contains("extra inputs") || lower.Contains("unknown name")
            || lower.Contains("unrecognized request argument") || lower.Contains("context length") || lower.Contains("context size") || lower.Contains("exceed_context");
    }
}
