using System;

namespace VlmCaption
{
    /// <summary>What Test-VlmEndpoint found out about an endpoint and a model, with a diagnosis for each problem.</summary>
    public sealed class EndpointTestResult
    {
        /// <summary>The endpoint tested.</summary>
        public string BaseUrl { get; set; } = "";

        /// <summary>The proxy the test went through: its address (never its credentials), one from the environment, or none.</summary>
        public string Proxy { get; set; } = "none";

        /// <summary>The model tested (named, or the only one listed).</summary>
        public string Model { get; set; } = "";

        /// <summary>The server answered at all.</summary>
        public bool Reachable { get; set; }

        /// <summary>The model is in the server's list; null when the list could not be read.</summary>
        public bool? ModelListed { get; set; }

        /// <summary>The models the server lists.</summary>
        public string[] ListedModels { get; set; } = Array.Empty<string>();

        /// <summary>The model named the colour of a generated square: it really sees images. Null when not tried.</summary>
        public bool? SeesImages { get; set; }

        /// <summary>Its answer to that question, cleaned.</summary>
        public string? Answer { get; set; }

        /// <summary>Milliseconds for that short answer.</summary>
        public double? LatencyMs { get; set; }

        /// <summary>The answer carried token usage.</summary>
        public bool? ReportsUsage { get; set; }

        /// <summary>The answer carried &lt;think&gt; tags (VlmCaption removes them).</summary>
        public bool? ThinkTags { get; set; }

        /// <summary>The answer carried a reasoning_content field.</summary>
        public bool? ReasoningContent { get; set; }

        /// <summary>What is wrong and what to do, one line per problem; empty when all is well.</summary>
        public string[] Diagnosis { get; set; } = Array.Empty<string>();

        /// <summary>What is worth knowing but does not fail the check: a model list that could not be read, a name matched loosely, a field the server made the client change.</summary>
        public string[] Notes { get; set; } = Array.Empty<string>();

        /// <summary>No problem found.</summary>
        public bool Passed { get; set; }
    }
}
