using VlmCaption.Images;

namespace VlmCaption.Transport
{
    /// <summary>One message of a chat history: a role, its text and, for the first user turn, the image.</summary>
    internal sealed class ChatMessage
    {
        public ChatMessage(string role, string text, PreparedImage? image = null)
        {
            Role = role;
            Text = text;
            Image = image;
        }

        public string Role { get; }

        public string Text { get; }

        public PreparedImage? Image { get; }

        public static ChatMessage System(string text) => new ChatMessage("system", text);

        public static ChatMessage User(string text, PreparedImage? image = null) => new ChatMessage("user", text, image);

        public static ChatMessage Assistant(string text) => new ChatMessage("assistant", text);
    }
}
