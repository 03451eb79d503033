using System;

namespace VlmCaption.Batch
{
    /// <summary>How a batch run keeps its state and splits and submits its rounds.</summary>
    public sealed class BatchOptions
    {
        /// <summary>The name of the folder a batch run keeps its state in, under the output (or image) folder; the image walk skips it.</summary>
        public const string DefaultFolderName = BatchFolder.DefaultName;

        /// <summary>The state folder's name for a run over one shard ("2/4": .vlmcaption-batch-2-of-4), so machines sharing a dataset keep theirs apart.</summary>
        public static string FolderNameFor(string? shard) =>
            shard is null ? DefaultFolderName : DefaultFolderName + "-" + shard.Replace("/", "-of-");

        /// <summary>OpenAI's limit of requests in one batch input file.</summary>
        public const int DefaultMaxRequests = 50_000;

        /// <summary>OpenAI's limit of one input file, 200 MB.</summary>
        public const long DefaultMaxBytes = 200_000_000;

        /// <summary>The folder that keeps the run's state (and, with <see cref="FilesOnly"/>, the request files to run).</summary>
        public string Folder { get; init; } = "";

        /// <summary>The folder every listed image must be under (base_directory): a caption is written beside each, so a list edited to name others is refused. Empty: not checked.</summary>
        public string BaseDirectory { get; init; } = "";

        /// <summary>The shard ("i/n") the run takes, if any: part of what the folder's run was started with.</summary>
        public string? Shard { get; init; }

        /// <summary>Write the request files and read the outputs placed beside them; never contact a server.</summary>
        public bool FilesOnly { get; init; }

        /// <summary>Requests in one request file at most; more are split into further files.</summary>
        public int MaxRequestsPerFile { get; init; } = DefaultMaxRequests;

        /// <summary>Bytes in one request file at most.</summary>
        public long MaxBytesPerFile { get; init; } = DefaultMaxBytes;

        /// <summary>The first wait between status checks; each wait is half as long again, up to <see cref="PollMax"/>.</summary>
        public TimeSpan PollFirst { get; init; } = TimeSpan.FromSeconds(2);

        /// <summary>The longest wait between status checks.</summary>
        public TimeSpan PollMax { get; init; } = TimeSpan.FromSeconds(60);
    }

    /// <summary>How far a batch run got.</summary>
    public enum BatchRunState
    {
        /// <summary>Every image is written or failed; the state folder is gone.</summary>
        Finished,

        /// <summary>Request files are written and wait for their outputs (-BatchFiles); run again once they are there.</summary>
        Waiting,
    }
}
