using System.Collections.Generic;
using System.IO;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace VlmCaption.Config
{
    /// <summary>
    /// Checks a caption.yaml's shape from the parser's events, before YamlDotNet builds a tree of it: building is
    /// recursive (100 000 levels of nesting overflow the stack and kill the host) and expands aliases (a few
    /// hundred bytes of anchors that refer to anchors grow tenfold a level). A configuration needs neither.
    /// </summary>
    internal static class YamlLimits
    {
        /// <summary>Deepest nesting of lists and mappings taken; the deepest real key (extra_body) needs a handful.</summary>
        public const int MaxDepth = 32;

        /// <summary>Most nodes the document may stand for once every alias is expanded.</summary>
        public const long MaxExpandedNodes = 100_000;

        /// <summary>Throws <see cref="CaptionException"/> (InvalidConfig) naming the line and the key when a limit is passed.</summary>
        public static void Check(string text, string fileName)
        {
            var parser = new Parser(new StringReader(text));
            var anchors = new Dictionary<string, long>();
            var open = new Stack<Node>();
            long total = 0;
            string? key = null;
            int rootItems = 0;
            while (parser.MoveNext())
            {
                ParsingEvent current = parser.Current!;
                if (open.Count == 1 && current is not MappingEnd)
                {
                    // Inside the top mapping items alternate key, value: remember the key for the message.
                    if (rootItems++ % 2 == 0)
                    {
                        key = (current as Scalar)?.Value;
                    }
                }

                switch (current)
                {
                    case MappingStart mapping:
                        Open(mapping.Anchor, current);
                        break;
                    case SequenceStart sequence:
                        Open(sequence.Anchor, current);
                        break;
                    case MappingEnd:
                    case SequenceEnd:
                        Node done = open.Pop();
                        if (!done.Anchor.IsEmpty)
                        {
                            anchors[done.Anchor.Value] = done.Size;
                        }

                        Add(done.Size, current);
                        break;
                    case Scalar scalar:
                        if (!scalar.Anchor.IsEmpty)
                        {
                            anchors[scalar.Anchor.Value] = 1;
                        }

                        Add(1, current);
                        break;
                    case AnchorAlias alias:
                        Add(anchors.TryGetValue(alias.Value.Value, out long size) ? size : 1, current);
                        break;
                }
            }

            void Open(AnchorName anchor, ParsingEvent at)
            {
                if (open.Count >= MaxDepth)
                {
                    throw Error(at, $"lists and mappings nest more than {MaxDepth} levels deep");
                }

                open.Push(new Node(anchor));
            }

            void Add(long size, ParsingEvent at)
            {
                total += size;
                if (open.Count > 0)
                {
                    open.Peek().Size += size;
                }

                if (total > MaxExpandedNodes)
                {
                    throw Error(at, $"its aliases expand to more than {MaxExpandedNodes} values (an alias bomb?)");
                }
            }

            CaptionException Error(ParsingEvent at, string what) =>
                new CaptionException("InvalidConfig", CaptionErrorCategory.InvalidData, $"{fileName} line {at.Start.Line}, column {at.Start.Column}{(key is null ? "" : $", in '{key}'")}: {what}; a caption.yaml needs nothing like it.");
        }

        private sealed class Node
        {
            public Node(AnchorName anchor) => Anchor = anchor;

            public AnchorName Anchor { get; }

            // Counts itself, like a scalar, once it closes.
            public long Size { get; set; } = 1;
        }
    }
}
