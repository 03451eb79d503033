<#
.SYNOPSIS
    What the client costs per image: images per second and CPU milliseconds per image against a server that
    answers at once (and does not decode), for 1024x768 and 4000x3000 photographs, with the default
    preparation and with -MaxImageSize 0, streamed (the default) and with -NoStream side by side.
#>
param([int] $Count = 500, [int] $Runs = 3, [int] $ThrottleLimit = 8, [string[]] $Transport = @('stream', 'nostream'))

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
Import-Module (Get-BenchModulePath) -Force
$server = Start-TestServer -Arguments '--no-image-decode', '--no-log'
$root = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-overhead-$PID"
try {
    foreach ($size in @(@(1024, 768), @(4000, 3000))) {
        $folder = Join-Path $root "$($size[0])x$($size[1])"
        New-BenchImages -Folder $folder -Count $Count -Width $size[0] -Height $size[1] -Format jpeg -Pattern photo
        $fileKB = [math]::Round((Get-ChildItem $folder -File | Select-Object -First 1).Length / 1KB)
        foreach ($maxImageSize in 1536, 0) {
          foreach ($mode in $Transport) {
            $noStream = $mode -eq 'nostream'
            $samples = foreach ($run in 1..$Runs) {
                [GC]::Collect()
                $process = [Diagnostics.Process]::GetCurrentProcess()
                $cpu = $process.TotalProcessorTime
                $clock = [Diagnostics.Stopwatch]::StartNew()
                Get-ChildItem $folder -File | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -ThrottleLimit $ThrottleLimit -MaxImageSize $maxImageSize -NoStream:$noStream | Out-Null
                $clock.Stop()
                $process.Refresh()
                [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; CpuMs = ($process.TotalProcessorTime - $cpu).TotalMilliseconds }
            }
            $seconds = Get-Median $samples.Seconds
            [pscustomobject]@{
                Benchmark       = 'ClientOverhead'
                Images          = "$Count x $($size[0])x$($size[1]) JPEG ($fileKB KB)"
                MaxImageSize    = $maxImageSize
                Transport       = $mode
                ImagesPerSecond = [math]::Round($Count / $seconds, 1)
                CpuMsPerImage   = [math]::Round((Get-Median $samples.CpuMs) / $Count, 1)
            }
          }
        }
    }
}
finally {
    Stop-TestServer $server
    Remove-Item $root -Recurse -Force -ErrorAction Ignore
}
