<#
.SYNOPSIS
    Several models on servers of their own: Invoke-VlmCaptionRun with two models, each on a reference server of its
    own that answers after a fixed latency; wall time against the ideal (images x prompts x latency / throttle
    limit: each server as busy as with its model alone) and each server's average requests in flight while images
    remained to be sent (its /debug/stats).
.DESCRIPTION
    VLMCAPTION_BENCH_MODULE measures another build (before and after). Runs in a fresh pwsh process each time.
#>
param([int] $Images = 48, [int] $Prompts = 1, [int] $LatencyMs = 500, [int] $ThrottleLimit = 4, [int] $Runs = 3)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
$module = Get-BenchModulePath
$servers = @(Start-TestServer -Arguments '--no-image-decode', '--no-log'; Start-TestServer -Arguments '--no-image-decode', '--no-log')
$folder = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-models-$PID"
try {
    New-BenchImages -Folder $folder -Count $Images
    $promptList = (1..$Prompts | ForEach-Object { "'Prompt $_.'" }) -join ', '
    $config = Join-Path $folder 'caption.yaml'
    Set-Content -LiteralPath $config -Value "base_url: $($servers[0].BaseUrl)`nmodel:`n  - alpha`n  - {model: beta, base_url: '$($servers[1].BaseUrl)'}`nprompts: [$promptList]`nbase_directory: .`nconcurrent_batch_size: $ThrottleLimit"
    $samples = foreach ($run in 1..$Runs) {
        Reset-TestServer $servers[0] -Options @{ models = @('alpha'); latencyMs = $LatencyMs }
        Reset-TestServer $servers[1] -Options @{ models = @('beta'); latencyMs = $LatencyMs }
        $line = Invoke-FreshPwshScript {
            param($Module, $Config)
            Import-Module $Module
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $summary = Invoke-VlmCaptionRun $Config -Force
            '{0} {1}' -f $clock.Elapsed.TotalSeconds, $summary.Succeeded
        } -ArgumentList $module, $config | Select-Object -Last 1
        $seconds, $succeeded = $line -split ' '
        if ([int]$succeeded -ne $Images) { throw "A run captioned $succeeded of $Images images: $line" }
        [pscustomobject]@{
            Seconds  = [double]$seconds
            InFlight = @($servers | ForEach-Object { [double](Get-TestServerStat $_).averageInFlightWhileSending })
        }
    }
    $ideal = $Images * $Prompts * $LatencyMs / 1000 / $ThrottleLimit
    $median = Get-Median $samples.Seconds
    [pscustomobject]@{
        Benchmark     = 'Models'
        Images        = $Images
        ThrottleLimit = $ThrottleLimit
        LatencyMs     = $LatencyMs
        MedianSeconds = [math]::Round($median, 2)
        IdealSeconds  = $ideal
        OfIdeal       = [math]::Round($ideal / $median, 3)
        # Per server, the median over the runs of its average in flight, against the throttle limit.
        ServerInFlight = (0, 1 | ForEach-Object { $i = $_; [math]::Round((Get-Median ($samples | ForEach-Object { $_.InFlight[$i] })), 2) }) -join ' / '
    }
}
finally {
    $servers | ForEach-Object { Stop-TestServer $_ }
    Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction Ignore
}
