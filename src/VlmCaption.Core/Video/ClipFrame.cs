using VlmCaption.Images;

namespace VlmCaption.Video
{
    /// <summary>One frame of a clip, prepared as an image, and the second of the clip it was taken at.</summary>
    internal sealed class ClipFrame
    {
        public ClipFrame(PreparedImage image, double seconds)
        {
            Image = image;
            Seconds = seconds;
        }

        public PreparedImage Image { get; }

        public double Seconds { get; }
    }
}
