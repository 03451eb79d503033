<#
.SYNOPSIS
    Captions a dataset from a scheduled task and reports the outcome through its exit code.
.DESCRIPTION
    Runs Invoke-VlmCaptionRun with a caption.yaml, appends one line with the run summary to a log file, and
    exits with:
      0  every image is captioned (or was already),
      1  some images failed or were cut off by the answer limit (they are retried by the next run),
      2  the run could not start or stopped (bad caption.yaml, server unreachable).
    With skip_if_caption_exists: true, a run that was stopped picks up where it left off.
.EXAMPLE
    pwsh -NoProfile -File ./Invoke-NightlyCaption.ps1 -ConfigPath D:\datasets\cats\caption.yaml -LogPath D:\logs\captions.log
.EXAMPLE
    # Register it with the Windows task scheduler, every night at 01:00:
    $action = New-ScheduledTaskAction -Execute pwsh -Argument '-NoProfile -File C:\tools\Invoke-NightlyCaption.ps1 -ConfigPath D:\datasets\cats\caption.yaml'
    Register-ScheduledTask -TaskName 'Caption cats' -Action $action -Trigger (New-ScheduledTaskTrigger -Daily -At 1am)
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ConfigPath,
    [string] $LogPath = (Join-Path (Split-Path $ConfigPath) 'caption-runs.log'),
    [string] $ModulePath = 'VlmCaption'
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$started = Get-Date
try {
    # Per-image failures are non-terminating: they are counted in the summary and the run goes on.
    $summary = Invoke-VlmCaptionRun -ConfigPath $ConfigPath -ErrorAction Continue -ErrorVariable imageErrors
}
catch {
    $line = [ordered]@{ Started = $started.ToString('o'); Config = $ConfigPath; Error = $_.Exception.Message; ErrorId = $_.FullyQualifiedErrorId }
    Add-Content -LiteralPath $LogPath -Value ($line | ConvertTo-Json -Compress)
    Write-Error $_ -ErrorAction Continue
    exit 2
}

$line = [ordered]@{
    Started          = $started.ToString('o')
    Config           = $ConfigPath
    Total            = $summary.Total
    Succeeded        = $summary.Succeeded
    Skipped          = $summary.Skipped
    Failed           = $summary.Failed
    Truncated        = $summary.Truncated
    CompletionTokens = $summary.CompletionTokens
    Minutes          = [math]::Round($summary.Duration.TotalMinutes, 1)
    Failures         = @($summary.Failures | ForEach-Object { "$($_.Path): $($_.ErrorId)" })
}
Add-Content -LiteralPath $LogPath -Value ($line | ConvertTo-Json -Compress)
$summary

if ($summary.Failed + $summary.Truncated -gt 0) { exit 1 }
exit 0
