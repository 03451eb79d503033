namespace VlmCaption
{
    /// <summary>Kinds of failure; the names match PowerShell's ErrorCategory so the cmdlets map them one to one.</summary>
    public enum CaptionErrorCategory
    {
        /// <summary>The input or a setting is wrong.</summary>
        InvalidArgument,

        /// <summary>The image or a file could not be decoded or is malformed.</summary>
        InvalidData,

        /// <summary>A file could not be read.</summary>
        ReadError,

        /// <summary>A file could not be written.</summary>
        WriteError,

        /// <summary>A file or model does not exist.</summary>
        ObjectNotFound,

        /// <summary>A size or pixel budget was exceeded.</summary>
        LimitsExceeded,

        /// <summary>The server could not be reached.</summary>
        ConnectionError,

        /// <summary>The server took longer than the timeout.</summary>
        OperationTimeout,

        /// <summary>The server refused the key.</summary>
        AuthenticationError,

        /// <summary>The server is overloaded or unavailable.</summary>
        ResourceUnavailable,

        /// <summary>The server answered with something that is not a chat completion.</summary>
        ProtocolError,

        /// <summary>The answer is unusable, e.g. an empty caption.</summary>
        InvalidResult,

        /// <summary>The server cannot do what is asked of it (e.g. a model without vision); the same for every image.</summary>
        InvalidOperation,
    }
}
