using System.Collections.Generic;

namespace VlmCaption
{
    /// <summary>
    /// The openings a final answer is taken for a refusal by, without configuration (refusal_check; refusal_phrases
    /// adds more): how OpenAI's, Anthropic's, Gemini's, Qwen's and Llama's models start a refusal, in English and
    /// the languages captioners most often prompt in. about_VlmCaption lists them; a test keeps the two alike.
    /// </summary>
    public static class RefusalOpenings
    {
        /// <summary>The openings, compared ignoring case, a curly apostrophe as a straight one.</summary>
        public static readonly IReadOnlyList<string> BuiltIn = new[]
        {
            "I'm sorry", "I am sorry", "Sorry, I can't", "Sorry, but I can't", "I apologize, but", "I apologise, but",
            "I can't help with", "I cannot help with", "I can't assist", "I cannot assist", "I can't provide", "I cannot provide",
            "I can't describe", "I cannot describe", "I can't comply", "I cannot comply", "I won't be able to", "I will not describe",
            "I'm unable to", "I am unable to", "I'm not able to", "I am not able to", "As an AI",
            "Es tut mir leid", "Ich kann dabei nicht helfen", "Je suis désolé", "Désolé, je ne peux pas", "Lo siento",
            "Mi dispiace", "Sinto muito", "Извините", "К сожалению, я не могу", "抱歉", "对不起", "我无法", "我不能", "申し訳", "죄송합니다",
        };
    }
}
