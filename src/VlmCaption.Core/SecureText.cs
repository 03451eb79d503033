using System.Security;

namespace VlmCaption
{
    /// <summary>Keys are held as SecureString between the user and the request header.</summary>
    public static class SecureText
    {
        /// <summary>A read-only SecureString holding <paramref name="text"/>.</summary>
        public static SecureString From(string text)
        {
            var secure = new SecureString();
            foreach (char c in text)
            {
                secure.AppendChar(c);
            }

            secure.MakeReadOnly();
            return secure;
        }
    }
}
