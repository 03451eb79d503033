<#
.SYNOPSIS
    Captions a dataset from a scheduled task and reports the outcome through its exit code.
.DESCRIPTION
    Runs Invoke-VlmCaptionRun with a caption.yaml, appends one line with the run summary to a log file, and
    exits with:
      0  every image is captioned (or was already),
      1  some images failed or were cut off by the answer limit, for reasons a later run may not meet (a server
         error, an answer that failed its checks); the next run retries them,
      2  the run could not start or was stopped by an error (module not found, bad caption.yaml, server unreachable),
      3  the run was interrupted (Ctrl+C, the task was ended) before it finished,
      4  every image is captioned but some that fail the same way on every run until they are fixed: a damaged
         or unreadable file, one too large, same-stem images sharing a caption file (the log names them).
    With skip_if_caption_exists: true, a run that was stopped picks up where it left off.
.PARAMETER ModulePath
    The module to import: a name or a path to VlmCaption.psd1. By default the installed VlmCaption, else the one
    ./build.ps1 Build made in out/VlmCaption beside this folder.
.EXAMPLE
    ./examples/Start-NightlyCaption.sh -ConfigPath ~/datasets/cats/caption.yaml

    From cron or a systemd timer on a machine set up by the README (dotnet tool restore; dotnet pwsh ./build.ps1
    Build): the launcher runs this script in one process, so the scheduler's SIGTERM reaches the run.
.EXAMPLE
    # Register it with the Windows task scheduler, every night at 01:00 (PowerShell 7 installed as pwsh):
    $action = New-ScheduledTaskAction -Execute pwsh -Argument '-NoProfile -File C:\tools\Invoke-NightlyCaption.ps1 -ConfigPath D:\datasets\cats\caption.yaml'
    Register-ScheduledTask -TaskName 'Caption cats' -Action $action -Trigger (New-ScheduledTaskTrigger -Daily -At 1am)
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ConfigPath,
    [string] $LogPath = (Join-Path (Split-Path $ConfigPath) 'caption-runs.log'),
    [string] $ModulePath
)

$ErrorActionPreference = 'Stop'
$started = Get-Date

function Write-RunLog([System.Collections.IDictionary] $Entry) {
    $line = [ordered]@{ Started = $started.ToString('o'); Config = $ConfigPath } + $Entry
    Add-Content -LiteralPath $LogPath -Value ($line | ConvertTo-Json -Compress)
}

if (-not $ModulePath) {
    $built = Join-Path $PSScriptRoot '../out/VlmCaption/VlmCaption.psd1'
    $ModulePath = if (-not (Get-Module -ListAvailable VlmCaption) -and (Test-Path $built)) { $built } else { 'VlmCaption' }
}

# 3 unless the run gets to its end: a Ctrl+C or a stopped task skips everything but the finally block.
$exitCode = 3
try {
    try {
        Import-Module $ModulePath
        # Per-image failures are non-terminating: they are counted in the summary and the run goes on.
        $summary = Invoke-VlmCaptionRun -ConfigPath $ConfigPath -ErrorAction Continue -ErrorVariable imageErrors -SummaryVariable soFar
        # Failures of an image's own file repeat on every run; told apart, so that 1 keeps meaning "look at the server".
        $ownFile = 'ImageDecodeFailed', 'ImageReadFailed', 'ImageTooLarge', 'RequestTooLarge', 'CaptionPathConflict', 'OutsideBaseDirectory', 'ClaimBlocked'
        $exitCode = if ($summary.Truncated -gt 0 -or @($summary.Failures | Where-Object ErrorId -NotIn $ownFile).Count -gt 0) { 1 }
        elseif ($summary.Failed -gt 0) { 4 }
        else { 0 }
    }
    catch {
        $exitCode = 2
        Write-RunLog @{ Error = $_.Exception.Message; ErrorId = $_.FullyQualifiedErrorId }
        Write-Error $_ -ErrorAction Continue
    }

    if ($exitCode -lt 2 -or $exitCode -eq 4) {
        Write-RunLog ([ordered]@{
                Total            = $summary.Total
                Succeeded        = $summary.Succeeded
                Skipped          = $summary.Skipped
                Failed           = $summary.Failed
                Truncated        = $summary.Truncated
                CompletionTokens = $summary.CompletionTokens
                Minutes          = [math]::Round($summary.Seconds / 60, 1)
                Failures         = @($summary.Failures | ForEach-Object { "$($_.Path): $($_.ErrorId)" })
            })
        $summary
    }
}
finally {
    if ($exitCode -eq 3) {
        # The pipeline is stopping, so 'exit' would be ignored here: end the process with the code itself.
        $entry = [ordered]@{ Error = 'The run was interrupted before it finished.'; ErrorId = 'Interrupted' }
        if ($soFar) { $entry += [ordered]@{ Total = $soFar.Total; Succeeded = $soFar.Succeeded; Skipped = $soFar.Skipped; Failed = $soFar.Failed } }
        Write-RunLog $entry
        [Environment]::Exit(3)
    }
}
exit $exitCode
