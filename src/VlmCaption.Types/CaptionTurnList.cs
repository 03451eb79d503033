using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;

namespace VlmCaption
{
    /// <summary>
    /// The turns of a conversation. A list to scripts and ConvertTo-Json; a one-line summary where only text fits
    /// (Export-Csv, string expansion), e.g. "2 turns: stop, stop; 41 tokens".
    /// </summary>
    public sealed class CaptionTurnList : ReadOnlyCollection<CaptionTurn>
    {
        /// <summary>Wraps the turns in order.</summary>
        public CaptionTurnList(IList<CaptionTurn> turns)
            : base(turns)
        {
        }

        /// <summary>No turns.</summary>
        public static CaptionTurnList Empty { get; } = new CaptionTurnList(new List<CaptionTurn>());

        /// <inheritdoc />
        public override string ToString()
        {
            string reasons = string.Join(", ", this.Select(t => t.FinishReason.Length == 0 ? "?" : t.FinishReason));
            int? tokens = this.Any(t => t.CompletionTokens is not null) ? this.Sum(t => t.CompletionTokens ?? 0) : null;
            return $"{Count} turn{(Count == 1 ? "" : "s")}{(Count > 0 ? ": " + reasons : "")}{(tokens is null ? "" : $"; {tokens} tokens")}";
        }
    }
}
