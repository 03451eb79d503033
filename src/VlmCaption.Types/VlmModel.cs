using System;

namespace VlmCaption
{
    /// <summary>A model an endpoint lists at /v1/models.</summary>
    public sealed class VlmModel
    {
        /// <summary>The name to pass as -Model.</summary>
        public string Id { get; set; } = "";

        /// <summary>The owner the server reports, if any.</summary>
        public string? OwnedBy { get; set; }

        /// <summary>When the model was created, if the server says.</summary>
        public DateTimeOffset? Created { get; set; }

        /// <summary>The endpoint that lists it.</summary>
        public string BaseUrl { get; set; } = "";

        /// <summary>The status a router lists for the model (llama-server's router: loaded, unloaded, …), if any.</summary>
        public string? Status { get; set; }

        /// <inheritdoc />
        public override string ToString() => Id;
    }
}
