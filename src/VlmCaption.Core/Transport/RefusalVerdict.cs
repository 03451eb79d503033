namespace VlmCaption.Transport
{
    /// <summary>
    /// What a server's refusal of one request means, decided once for live requests (<see cref="ChatEndpoint"/>) and
    /// batch answers (<see cref="Batch.BatchAnswerReader"/>) alike: send it changed (the refusal names a field this
    /// client can change), try it again (408, 429 and 5xx that are not the same for every image), or fail the image.
    /// The live path also waits out a server that is loading its model; a batch has no such answer.
    /// </summary>
    internal sealed class RefusalVerdict
    {
        private RefusalVerdict(RequestAdjustment.Change? change, CaptionException failure, bool transient)
        {
            Change = change;
            Failure = failure;
            Transient = transient;
        }

        /// <summary>The change the refusal asks for; null when it names none.</summary>
        public RequestAdjustment.Change? Change { get; }

        /// <summary>The image's error if the request is not sent again (or is, and fails the same way every time).</summary>
        public CaptionException Failure { get; }

        /// <summary>True when sending the same request again may pass: a change, or a transient status.</summary>
        public bool Transient { get; }

        /// <summary>Reads a refusal: its status, reason phrase and the server's text (<paramref name="shownText"/> is what the error shows, e.g. with a request id).</summary>
        public static RefusalVerdict Read(int status, string reason, string serverText, EndpointQuirks sent, string shownUrl, bool? modelListed = null, string? shownText = null)
        {
            CaptionException failure = ServerFailure.FromAnswer(status, reason, shownText ?? serverText, shownUrl, modelListed);
            return RequestAdjustment.Read(status, serverText, sent) is RequestAdjustment.Change change
                ? new RefusalVerdict(change, failure, transient: true)
                : new RefusalVerdict(null, failure, RetryDelay.IsTransientStatus(status) && !failure.SameForEveryImage);
        }

        /// <summary>The note told once when an endpoint's requests change.</summary>
        public static string Changed(string shownUrl, string serverText, RequestAdjustment.Change change) =>
            $"{shownUrl} refused the request ({serverText.TrimEnd('.')}); it is sent {change.Description} from now on.";
    }
}
