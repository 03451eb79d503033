using System;
using System.Globalization;
using System.IO;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;

namespace VlmCaption.Hints
{
    /// <summary>The exif hint: camera, lens, date taken and GPS position from the image's own EXIF data, in the built-in hints' style.</summary>
    internal static class ExifHint
    {
        /// <summary>The hint text, or null when the image has none of these tags. Reads the header only, not the pixels.</summary>
        public static string? Build(string imagePath)
        {
            IImageInfo? info;
            try
            {
                info = Image.Identify(imagePath);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ImageFormatException || e is NotSupportedException)
            {
                throw new CaptionException("HintFailed", CaptionErrorCategory.ReadError, $"Cannot read the EXIF data of '{imagePath}': {e.Message}", e);
            }

            ExifProfile? exif = info?.Metadata.ExifProfile;
            if (exif is null)
            {
                return null;
            }

            var text = new StringBuilder();
            string? make = exif.GetValue(ExifTag.Make)?.Value?.Trim();
            string? model = exif.GetValue(ExifTag.Model)?.Value?.Trim();
            string camera = model is null ? make ?? "" : make is null || model.StartsWith(make, StringComparison.OrdinalIgnoreCase) ? model : make + " " + model;
            Line(text, "Camera", camera);
            Line(text, "Lens", exif.GetValue(ExifTag.LensModel)?.Value?.Trim());
            Line(text, "Date taken", DateTaken(exif.GetValue(ExifTag.DateTimeOriginal)?.Value));
            double? latitude = Degrees(exif.GetValue(ExifTag.GPSLatitude)?.Value, exif.GetValue(ExifTag.GPSLatitudeRef)?.Value, "S");
            double? longitude = Degrees(exif.GetValue(ExifTag.GPSLongitude)?.Value, exif.GetValue(ExifTag.GPSLongitudeRef)?.Value, "W");
            if (latitude is double lat && longitude is double lon)
            {
                Line(text, "GPS position", string.Format(CultureInfo.InvariantCulture, "{0:0.000000}, {1:0.000000}", lat, lon));
            }

            return text.Length == 0 ? null : "EXIF metadata:\n" + text;
        }

        private static void Line(StringBuilder text, string label, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                text.Append("- ").Append(label).Append(": ").Append(value).Append('\n');
            }
        }

        // EXIF writes "2024:05:01 12:34:56"; people and models read "2024-05-01 12:34:56".
        private static string? DateTaken(string? value) =>
            DateTime.TryParseExact(value?.Trim(), "yyyy:MM:dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime taken)
                ? taken.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
                : value;

        private static double? Degrees(Rational[]? parts, string? reference, string negative)
        {
            if (parts is null || parts.Length != 3 || parts[0].Denominator == 0 || parts[1].Denominator == 0 || parts[2].Denominator == 0)
            {
                return null;
            }

            double degrees = parts[0].ToDouble() + (parts[1].ToDouble() / 60) + (parts[2].ToDouble() / 3600);
            return string.Equals(reference?.Trim(), negative, StringComparison.OrdinalIgnoreCase) ? -degrees : degrees;
        }
    }
}
