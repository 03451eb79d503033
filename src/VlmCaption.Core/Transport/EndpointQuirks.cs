namespace VlmCaption.Transport
{
    /// <summary>
    /// What one endpoint was found to need, learned from its refusals and kept for the rest of the run, so every
    /// later request is right the first time. Read and changed from many images at once.
    /// </summary>
    internal sealed class EndpointQuirks
    {
        private readonly object gate = new object();

        public EndpointQuirks(CaptionSettings settings, string model)
        {
            UseMaxCompletionTokens = settings.UseMaxCompletionTokens;
            SendsTemperature = settings.Temperature is not null;
            MaxTokens = settings.MaxTokens;
            Model = model;
            Streams = settings.Stream;
            SendsStreamOptions = settings.Stream;
            SendsResponseFormat = settings.Schema is not null;
        }

        /// <summary>A turn that asks for the JSON schema carries response_format json_schema (older servers refuse it; the prompt still asks).</summary>
        public bool SendsResponseFormat { get; private set; }

        /// <summary>Requests ask for a stream.</summary>
        public bool Streams { get; }

        /// <summary>Streamed requests carry stream_options.include_usage (older servers refuse it).</summary>
        public bool SendsStreamOptions { get; private set; }

        /// <summary>The model name this endpoint is sent (its listed id when the name given matched it loosely).</summary>
        public string Model { get; }

        public bool UseMaxCompletionTokens { get; private set; }

        public bool SendsTemperature { get; private set; }

        /// <summary>The answer limit sent: the setting, or less where the model's context is smaller.</summary>
        public int MaxTokens { get; private set; }

        /// <summary>A copy to write one request from, so a change in flight cannot tear it.</summary>
        public EndpointQuirks Snapshot()
        {
            lock (gate)
            {
                return (EndpointQuirks)MemberwiseClone();
            }
        }

        /// <summary>True when a request written from either would be the same.</summary>
        public bool SameRequestAs(EndpointQuirks other) =>
            UseMaxCompletionTokens == other.UseMaxCompletionTokens && SendsTemperature == other.SendsTemperature && MaxTokens == other.MaxTokens && Model == other.Model
            && SendsStreamOptions == other.SendsStreamOptions && SendsResponseFormat == other.SendsResponseFormat;

        /// <summary>Applies a change; false when another request already made it (or a stronger one), so it is reported once.</summary>
        public bool Apply(RequestAdjustment.Change change)
        {
            lock (gate)
            {
                switch (change.Kind)
                {
                    case RequestAdjustment.ChangeKind.UseMaxCompletionTokens when !UseMaxCompletionTokens:
                        UseMaxCompletionTokens = true;
                        return true;
                    case RequestAdjustment.ChangeKind.UseMaxTokens when UseMaxCompletionTokens:
                        UseMaxCompletionTokens = false;
                        return true;
                    case RequestAdjustment.ChangeKind.DropTemperature when SendsTemperature:
                        SendsTemperature = false;
                        return true;
                    case RequestAdjustment.ChangeKind.DropStreamOptions when SendsStreamOptions:
                        SendsStreamOptions = false;
                        return true;
                    case RequestAdjustment.ChangeKind.DropResponseFormat when SendsResponseFormat:
                        SendsResponseFormat = false;
                        return true;
                    case RequestAdjustment.ChangeKind.LowerLimit when change.Limit < MaxTokens:
                        MaxTokens = change.Limit;
                        return true;
                    default:
                        return false;
                }
            }
        }
    }
}
