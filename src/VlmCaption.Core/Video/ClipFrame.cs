using VlmCaption.Images;

namespace VlmCaption.Video
{
    /// <summary>One frame of a clip, prepared as an image, and the second of the clip it was taken at.</summary>
    internal sealed record ClipFrame(PreparedImage Image, double Seconds);
}
