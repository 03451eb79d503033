<#
.SYNOPSIS
    Does the client keep the server busy? Wall time of a run against a server with a fixed latency, compared
    with the ideal: images x prompts x latency / throttle limit; streamed (the default) and with -NoStream.
#>
param([int] $Images = 200, [int] $Prompts = 3, [int] $LatencyMs = 100, [int[]] $ThrottleLimit = @(1, 8, 32), [int] $Runs = 3, [string[]] $Transport = @('stream', 'nostream'))

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
Import-Module (Get-BenchModulePath) -Force
$server = Start-TestServer -Arguments '--latency-ms', $LatencyMs, '--no-image-decode', '--no-log'
$folder = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-saturation-$PID"
try {
    New-BenchImages -Folder $folder -Count $Images
    $prompt = 1..$Prompts | ForEach-Object { "Prompt $_." }
    foreach ($limit in $ThrottleLimit) {
      foreach ($mode in $Transport) {
        $times = foreach ($run in 1..$Runs) {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Get-ChildItem $folder -File | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -Prompt $prompt -ThrottleLimit $limit -NoStream:($mode -eq 'nostream') | Out-Null
            $clock.Elapsed.TotalSeconds
        }
        $ideal = $Images * $Prompts * $LatencyMs / 1000 / $limit
        $median = Get-Median $times
        [pscustomobject]@{
            Benchmark     = 'Saturation'
            ThrottleLimit = $limit
            Transport     = $mode
            MedianSeconds = [math]::Round($median, 2)
            IdealSeconds  = [math]::Round($ideal, 2)
            OfIdeal       = [math]::Round($ideal / $median, 3)
            Runs          = ($times | ForEach-Object { [math]::Round($_, 2) }) -join ', '
        }
      }
    }
}
finally {
    Stop-TestServer $server
    Remove-Item $folder -Recurse -Force -ErrorAction Ignore
}
