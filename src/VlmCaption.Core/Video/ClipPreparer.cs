using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using SixLabors.ImageSharp;
using VlmCaption.Images;

namespace VlmCaption.Video
{
    /// <summary>
    /// Turns a clip into the frames a model sees: ffprobe reads its length and size, then ffmpeg takes clip_frames
    /// frames spread evenly over it (the middle of each of N equal parts), each scaled within max_image_size and
    /// encoded as a JPEG within the byte cap, as an image would be. Nothing of the clip is held but those frames;
    /// every call is bounded in time and output, and only the file's own demuxers and the file protocol are allowed
    /// (a file named .mp4 that is really a playlist cannot make ffmpeg open another file or a URL).
    /// </summary>
    internal sealed class ClipPreparer
    {
        private const string Demuxers = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi";
        private static readonly TimeSpan ProbeTime = TimeSpan.FromSeconds(30);
        private static readonly TimeSpan FrameTime = TimeSpan.FromSeconds(60);
        private const int MaxProbeBytes = 1 << 20;

        private readonly ImagePreparationOptions options;

        public ClipPreparer(ImagePreparationOptions options) => this.options = options;

        /// <summary>The clip's frames; throws <see cref="CaptionException"/> for a clip that cannot be sent, naming why.</summary>
        public async Task<PreparedImage> PrepareAsync(string path, CancellationToken cancellationToken)
        {
            if (RegularFile.Check(path, long.MaxValue) == RegularFile.Kind.EmptyOrSpecial)
            {
                throw Failed(path, "is empty (0 bytes), or not a regular file (a FIFO or a device), so it was not opened.");
            }

            (string ffmpeg, string ffprobe) = ClipTools.Find(options.FfmpegPath);
            (double seconds, int width, int height) = await ProbeAsync(ffprobe, path, cancellationToken).ConfigureAwait(false);
            if ((long)width * height > options.MaxPixels)
            {
                throw new CaptionException("ImageTooLarge", CaptionErrorCategory.LimitsExceeded, $"'{path}' has frames of {width}x{height} pixels, over the limit of {options.MaxPixels / 1_000_000.0:0.#} MP. Raise -MaxPixels if the clip is genuine.");
            }

            if (options.ClipAs == "video")
            {
                return await VideoAsync(ffmpeg, path, seconds, width, height, cancellationToken).ConfigureAwait(false);
            }

            IReadOnlyList<double> times = ClipTimes.For(seconds, options.ClipFrames, options.ClipEverySec);
            int count = times.Count;
            var frames = new List<ClipFrame>(count);
            foreach (double at in times)
            {
                if (await FrameAsync(ffmpeg, path, at, cancellationToken).ConfigureAwait(false) is PreparedImage frame)
                {
                    frames.Add(new ClipFrame(frame, at));
                }
            }

            if (frames.Count == 0)
            {
                throw Failed(path, $"gave no frame at any of the {count} times asked for within its stated length of {seconds:0.###} s: it is cut short, or says it is longer than it is.");
            }

            // A clip that says it is longer than it is: what it has is sent, and the run hears so (notes starting
            // with the path are told for each file).
            string? note = frames.Count < count
                ? $"'{path}' says it lasts {seconds:0.###} s but gave no frame at {count - frames.Count} of the {count} times asked for (it is shorter, or cut short); its caption is made from the {frames.Count} frames it gave."
                : null;
            return PreparedImage.Clip(frames, seconds, width, height, note);
        }

        private async Task<(double Seconds, int Width, int Height)> ProbeAsync(string ffprobe, string path, CancellationToken cancellationToken)
        {
            ToolProcess.Outcome probe = await RunAsync(ffprobe, new[] { "-v", "error", "-protocol_whitelist", "file", "-format_whitelist", Demuxers, "-show_entries", "format=duration:stream=codec_type,width,height,duration", "-of", "json", "file:" + path }, MaxProbeBytes, ProbeTime, path, cancellationToken).ConfigureAwait(false);
            if (probe.TimedOut || probe.TooMuch || probe.ExitCode != 0)
            {
                throw Failed(path, probe.TimedOut ? $"could not be read within {ProbeTime.TotalSeconds:0} s." : $"is not a clip ffmpeg can read{Said(probe)}");
            }

            try
            {
                using JsonDocument json = JsonDocument.Parse(probe.Output);
                double seconds = Number(json.RootElement, "format", "duration");
                foreach (JsonElement stream in json.RootElement.TryGetProperty("streams", out JsonElement streams) && streams.ValueKind == JsonValueKind.Array ? streams.EnumerateArray() : default(JsonElement.ArrayEnumerator))
                {
                    if (stream.TryGetProperty("codec_type", out JsonElement type) && type.GetString() == "video")
                    {
                        int width = stream.TryGetProperty("width", out JsonElement w) && w.TryGetInt32(out int wv) ? wv : 0;
                        int height = stream.TryGetProperty("height", out JsonElement h) && h.TryGetInt32(out int hv) ? hv : 0;
                        seconds = seconds > 0 ? seconds : Number(stream, null, "duration");
                        if (width <= 0 || height <= 0)
                        {
                            throw Failed(path, "has a video stream without a picture size.");
                        }

                        if (!(seconds > 0) || double.IsInfinity(seconds))
                        {
                            throw Failed(path, "does not say how long it is, so its frames cannot be spread over it.");
                        }

                        return (seconds, width, height);
                    }
                }
            }
            catch (JsonException e)
            {
                throw Failed(path, $"was described by ffprobe in a way it could not read: {e.Message}");
            }

            throw new CaptionException("ClipHasNoVideo", CaptionErrorCategory.InvalidData, $"'{path}' has no video stream (audio only?); there is nothing to see.");
        }

        /// <summary>One frame at <paramref name="at"/> seconds as a JPEG within the byte cap, lowering its quality as needed; null when the clip has none there.</summary>
        private async Task<PreparedImage?> FrameAsync(string ffmpeg, string path, double at, CancellationToken cancellationToken)
        {
            int size = options.MaxImageSize > 0 ? options.MaxImageSize : 4096;
            foreach (int quality in new[] { 3, 8, 16, 31 })
            {
                string[] arguments =
                {
                    "-nostdin", "-v", "error", "-protocol_whitelist", "file", "-format_whitelist", Demuxers,
                    "-ss", at.ToString("0.###", CultureInfo.InvariantCulture), "-i", "file:" + path,
                    "-map", "0:v:0", "-frames:v", "1", "-an", "-sn", "-dn",
                    "-vf", $"scale='min({size},iw)':'min({size},ih)':force_original_aspect_ratio=decrease",
                    "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", quality.ToString(CultureInfo.InvariantCulture), "pipe:1",
                };
                ToolProcess.Outcome frame = await RunAsync(ffmpeg, arguments, options.ClipBytes, FrameTime, path, cancellationToken).ConfigureAwait(false);
                if (frame.TimedOut)
                {
                    throw Failed(path, $"gave no frame at {at:0.###} s within {FrameTime.TotalSeconds:0} s.");
                }

                if (frame.ExitCode != 0 && !frame.TooMuch)
                {
                    throw Failed(path, $"could not be decoded at {at:0.###} s{Said(frame)}");
                }

                if (frame.Output.Length == 0)
                {
                    return null;
                }

                if (!frame.TooMuch && options.Fits(frame.Output.Length))
                {
                    IImageInfo info = Image.Identify(frame.Output);
                    return new PreparedImage(frame.Output, "image/jpeg", info?.Width ?? 0, info?.Height ?? 0);
                }
            }

            throw new CaptionException("ImageTooLarge", CaptionErrorCategory.LimitsExceeded, $"A frame of '{path}' stays over the byte cap even as a low-quality JPEG; {options.OverCapAdvice}.");
        }

        /// <summary>
        /// The clip itself, for servers that read video (vLLM's video_url, examples/online_serving/
        /// openai_chat_completion_client_for_multimodal.py): its first clip_max_sec seconds, without sound, scaled
        /// within max_image_size and at 4 frames a second (Qwen2.5-VL on vLLM samples 2 a second), as H.264 in an
        /// mp4 no larger than its frames could have been (ClipBytes); ffmpeg writes it to a
        /// temporary file it may not grow past that (-fs), which is read and removed.
        /// </summary>
        private async Task<PreparedImage> VideoAsync(string ffmpeg, string path, double seconds, int width, int height, CancellationToken cancellationToken)
        {
            int size = options.MaxImageSize > 0 ? options.MaxImageSize : 4096;
            long bound = options.ClipBytes;
            double sent = Math.Min(seconds, Math.Max(1, options.ClipMaxSec));
            string file = Path.Combine(Path.GetTempPath(), "vlmcaption-clip-" + Guid.NewGuid().ToString("N") + ".mp4");
            try
            {
                string[] arguments =
                {
                    "-nostdin", "-v", "error", "-protocol_whitelist", "file", "-format_whitelist", Demuxers,
                    "-i", "file:" + path, "-t", sent.ToString("0.###", CultureInfo.InvariantCulture),
                    "-map", "0:v:0", "-an", "-sn", "-dn",
                    "-vf", $"fps=4,scale='min({size},iw)':'min({size},ih)':force_original_aspect_ratio=decrease:force_divisible_by=2",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                    "-fs", bound.ToString(CultureInfo.InvariantCulture), "-f", "mp4", "file:" + file,
                };
                TimeSpan time = TimeSpan.FromSeconds(60 + (sent * 2));
                ToolProcess.Outcome outcome = await RunAsync(ffmpeg, arguments, 1 << 20, time, path, cancellationToken).ConfigureAwait(false);
                if (outcome.TimedOut || outcome.ExitCode != 0)
                {
                    throw Failed(path, outcome.TimedOut ? $"could not be cut and scaled within {time.TotalSeconds:0} s." : $"could not be cut and scaled for sending{Said(outcome)}");
                }

                var written = new FileInfo(file);
                if (!written.Exists || written.Length == 0)
                {
                    throw Failed(path, "gave no video when cut and scaled for sending.");
                }

                if (written.Length >= bound)
                {
                    throw new CaptionException("ImageTooLarge", CaptionErrorCategory.LimitsExceeded, $"'{path}' stays over {bound} bytes as a video of {sent:0.#} s (what {options.ClipFrames} frames may take); lower clip_max_sec (-ClipMaxSec) or max_image_size, or send frames.");
                }

                byte[] data = RegularFile.ReadAllBytes(file, bound);
                double scale = Math.Min(1.0, (double)size / Math.Max(width, height));
                return PreparedImage.Video(data, sent, (int)(width * scale) & ~1, (int)(height * scale) & ~1, width, height);
            }
            finally
            {
                try
                {
                    File.Delete(file);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    // A temporary file, in the temporary folder.
                }
            }
        }

        private static async Task<ToolProcess.Outcome> RunAsync(string tool, string[] arguments, long maxBytes, TimeSpan time, string path, CancellationToken cancellationToken)
        {
            try
            {
                return await ToolProcess.RunAsync(tool, arguments, maxBytes, time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is Win32Exception || e is IOException || e is InvalidOperationException)
            {
                throw new CaptionException("FfmpegNotFound", CaptionErrorCategory.ObjectNotFound, $"'{tool}' could not be started for '{path}': {e.Message} {ClipTools.InstallAdvice}", e) { SameForEveryImage = true };
            }
        }

        private static double Number(JsonElement element, string? child, string name)
        {
            if (child is not null && !element.TryGetProperty(child, out element))
            {
                return 0;
            }

            return element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
                && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double number) ? number : 0;
        }

        private static string Said(ToolProcess.Outcome outcome)
        {
            string first = outcome.Errors.Split('\n')[0].Trim();
            return first.Length == 0 ? "." : $": {(first.Length > 300 ? first.Substring(0, 300) + "…" : first)}";
        }

        private static CaptionException Failed(string path, string why) =>
            new CaptionException("ClipDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' {why}");
    }
}
