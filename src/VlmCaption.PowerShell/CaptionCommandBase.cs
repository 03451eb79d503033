using System;
using System.Management.Automation;
using System.Threading;

namespace VlmCaption.PowerShell
{
    /// <summary>
    /// The pipeline-thread half of captioning, shared by Get-VlmCaption and Invoke-VlmCaptionRun: starts jobs while
    /// the batch has a free slot, and turns every event the workers post into output, errors and progress here,
    /// on the only thread allowed to write them. Ctrl+C cancels the requests in flight.
    /// </summary>
    public abstract class CaptionCommandBase : PSCmdlet, IDisposable
    {
        private CaptionBatch? batch;

        /// <summary>Cancelled by StopProcessing.</summary>
        private protected CancellationTokenSource Cancellation { get; } = new CancellationTokenSource();

        /// <summary>The progress bar.</summary>
        private protected CaptionProgress Progress { get; private set; } = null!;

        /// <inheritdoc />
        public void Dispose()
        {
            batch?.Dispose();
            Cancellation.Dispose();
        }

        /// <summary>Starts a batch; a finished earlier one is let go.</summary>
        private protected void StartBatch(CaptionEngine engine, int throttleLimit)
        {
            batch?.Dispose();
            batch = new CaptionBatch(engine, throttleLimit, Cancellation.Token);
            Progress = new CaptionProgress(this);
        }

        /// <summary>Starts one image as soon as a slot is free, writing what finishes meanwhile.</summary>
        private protected void Enqueue(CaptionJob job)
        {
            while (!batch!.HasSlot)
            {
                Report(TakeNext());
            }

            WriteVerbose($"Captioning '{job.Path}'.");
            batch.Start(job);
            while (batch.TryTake(out CaptionEvent? next))
            {
                Report(next!);
            }
        }

        /// <summary>Waits for every image in flight; call from EndProcessing.</summary>
        private protected void DrainAll()
        {
            while (batch is not null && batch.InFlight > 0)
            {
                Report(TakeNext());
            }

            Progress?.Complete();
        }

        /// <summary>Handles a captioned image (output, files).</summary>
        private protected abstract void OnCompleted(CaptionEvent completed);

        /// <summary>Handles a failed image; by default a non-terminating error.</summary>
        private protected virtual void OnFailed(CaptionEvent failed)
        {
            WriteError(ErrorRecords.From(failed.Error!, failed.Path));
            Progress.Failed(failed.Path);
        }

        /// <inheritdoc />
        protected override void StopProcessing() => Cancellation.Cancel();

        private CaptionEvent TakeNext()
        {
            try
            {
                return batch!.Take();
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
        }

        private void Report(CaptionEvent next)
        {
            switch (next.Kind)
            {
                case CaptionEventKind.Message:
                    WriteVerbose($"{System.IO.Path.GetFileName(next.Path)}: {next.Text}");
                    break;
                case CaptionEventKind.Completed:
                    OnCompleted(next);
                    break;
                case CaptionEventKind.Failed:
                    OnFailed(next);
                    break;
            }
        }
    }
}
