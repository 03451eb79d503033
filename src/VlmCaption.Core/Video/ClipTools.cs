using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace VlmCaption.Video
{
    /// <summary>Finds ffmpeg and ffprobe: the file ffmpeg_path names (ffprobe beside it), else the first on PATH.</summary>
    public static class ClipTools
    {
        /// <summary>How to get ffmpeg, for the error when it is missing.</summary>
        public const string InstallAdvice = "Install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg; Windows: winget install ffmpeg), or name it with ffmpeg_path (-FfmpegPath).";

        /// <summary>The paths of ffmpeg and ffprobe; throws <see cref="CaptionException"/> (FfmpegNotFound) naming what is missing.</summary>
        public static (string Ffmpeg, string Ffprobe) Find(string? ffmpegPath)
        {
            if (!string.IsNullOrEmpty(ffmpegPath))
            {
                string folder = Path.GetDirectoryName(ffmpegPath) ?? ".";
                string probe = Path.Combine(folder, "ffprobe" + Path.GetExtension(ffmpegPath));
                if (!File.Exists(ffmpegPath) || !File.Exists(probe))
                {
                    throw Missing($"ffmpeg_path names '{ffmpegPath}', but {(File.Exists(ffmpegPath) ? $"there is no ffprobe beside it ('{probe}')" : "there is no such file")}.");
                }

                return (ffmpegPath!, probe);
            }

            string? ffmpeg = OnPath("ffmpeg");
            string? ffprobe = OnPath("ffprobe");
            if (ffmpeg is null || ffprobe is null)
            {
                throw Missing($"{(ffmpeg is null ? "ffmpeg" : "ffprobe")} is not on PATH, and clips are captioned from the frames it takes out.");
            }

            return (ffmpeg, ffprobe);
        }

        private static CaptionException Missing(string what) =>
            new CaptionException("FfmpegNotFound", CaptionErrorCategory.ObjectNotFound, $"{what} {InstallAdvice}") { SameForEveryImage = true };

        private static string? OnPath(string name)
        {
            string file = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? name + ".exe" : name;
            return (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries)
                .Select(folder => Path.Combine(folder.Trim('"'), file))
                .FirstOrDefault(File.Exists);
        }
    }
}
