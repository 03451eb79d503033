<#
.SYNOPSIS
    Does the client keep the server busy? Wall time of a run against a server with a fixed latency, compared
    with the ideal: images x prompts x latency / throttle limit; streamed (the default) and with -NoStream.
    Also server-side: the average number of requests in flight at the server while the client still had
    requests to send (from the first request's start to the last's), against the throttle limit.
    -Width, -Height, -Format and -Pattern choose the images (photo: gradients with noise, like a photograph).
#>
param(
    [int] $Images = 200, [int] $Prompts = 3, [int] $LatencyMs = 100, [int[]] $ThrottleLimit = @(1, 8, 32), [int] $Runs = 3,
    [string[]] $Transport = @('stream', 'nostream'),
    [int] $Width = 64, [int] $Height = 48, [string] $Format = 'png', [string] $Pattern = 'solid'
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
Import-Module (Get-BenchModulePath) -Force
$server = Start-TestServer -Arguments '--latency-ms', $LatencyMs, '--no-image-decode', '--no-log'
$folder = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-saturation-$PID"
try {
    New-BenchImages -Folder $folder -Count $Images -Width $Width -Height $Height -Format $Format -Pattern $Pattern
    $prompt = 1..$Prompts | ForEach-Object { "Prompt $_." }
    foreach ($limit in $ThrottleLimit) {
      foreach ($mode in $Transport) {
        $serverSide = [Collections.Generic.List[double]]::new()
        $times = foreach ($run in 1..$Runs) {
            Invoke-RestMethod -Method Post -Uri "$($server.Address)/debug/reset" | Out-Null
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Get-ChildItem $folder -File | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -Prompt $prompt -ThrottleLimit $limit -NoStream:($mode -eq 'nostream') | Out-Null
            $clock.Elapsed.TotalSeconds
            $serverSide.Add((Get-TestServerStat $server).averageInFlightWhileSending)
        }
        $ideal = $Images * $Prompts * $LatencyMs / 1000 / $limit
        $median = Get-Median $times
        $inFlight = Get-Median $serverSide.ToArray()
        [pscustomobject]@{
            Benchmark     = 'Saturation'
            ThrottleLimit = $limit
            Transport     = $mode
            MedianSeconds = [math]::Round($median, 2)
            IdealSeconds  = [math]::Round($ideal, 2)
            OfIdeal       = [math]::Round($ideal / $median, 3)
            ServerInFlight = [math]::Round($inFlight, 2)
            ServerOfIdeal = [math]::Round($inFlight / $limit, 3)
            Runs          = ($times | ForEach-Object { [math]::Round($_, 2) }) -join ', '
        }
      }
    }
}
finally {
    Stop-TestServer $server
    Remove-Item $folder -Recurse -Force -ErrorAction Ignore
}
