<#
.SYNOPSIS
    Batch mode at scale: -Count images, a chain of three prompts as three rounds through the reference server's
    Batch API. Time, client CPU per image, peak working set of the pwsh process, and the bytes uploaded (each
    round carries the whole conversation, image included), against the same set captioned live.
    -AnswerWords makes every answer that long (the server's "long" fault), to see what long answers cost.
#>
param([int[]] $Counts = @(1000, 10000), [int] $Width = 512, [int] $Height = 384, [int] $AnswerWords = 0, [string[]] $Ways = @('live', 'batch'))

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
$module = Get-BenchModulePath
$server = Start-TestServer -Arguments '--no-image-decode', '--no-log'
$root = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-batch-$PID"
try {
    foreach ($count in $Counts) {
        $folder = Join-Path $root "n$count"
        New-BenchImages -Folder (Join-Path $folder 'images') -Count $count -Width $Width -Height $Height -Format jpeg -Pattern photo -Subfolders ([math]::Max(1, $count / 1000))
        foreach ($way in $Ways) {
            Get-ChildItem (Join-Path $folder 'images') -Recurse -Filter *.txt | Remove-Item
            $config = Join-Path $folder 'caption.yaml'
            Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe the image., Name its colours., Write the final caption.]`nbase_directory: images`nrecursive: true`nconcurrent_batch_size: 8`nstream: false`nbatch: $($way -eq 'batch')`nbatch_poll_sec: 0.2"
            $options = @{ models = @('test'); batchStepMs = 20; noImageDecode = $true }
            if ($AnswerWords -gt 0) { $options.faults = @(@{ kind = 'long'; words = $AnswerWords }) }
            Reset-TestServer $server -Options $options
            $line = Invoke-FreshPwshScript {
                param($Module, $Config)
                Import-Module $Module
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $process = [Diagnostics.Process]::GetCurrentProcess()
                $cpu = $process.TotalProcessorTime
                $summary = Invoke-VlmCaptionRun $Config
                $process.Refresh()
                "$($clock.Elapsed.TotalSeconds) $(($process.TotalProcessorTime - $cpu).TotalSeconds) $($process.PeakWorkingSet64) $($summary.Succeeded)"
            } -ArgumentList $module, $config | Select-Object -Last 1
            $seconds, $cpuSeconds, $peak, $succeeded = $line -split ' '
            $stats = Get-TestServerStat $server
            [pscustomobject]@{
                Benchmark     = 'BatchRun'
                Way           = $way
                Images        = $count
                AnswerWords   = $AnswerWords
                Captioned     = [int] $succeeded
                Seconds       = [math]::Round([double]$seconds, 1)
                CpuMsPerImage = [math]::Round([double]$cpuSeconds * 1000 / $count, 1)
                PeakMB        = [math]::Round([double]$peak / 1MB)
                Batches       = $stats.batchesCreated
                UploadedMB    = [math]::Round($stats.uploadedBytes / 1MB, 1)
            }
        }
        Remove-Item $folder -Recurse -Force
    }
}
finally {
    Stop-TestServer $server
    Remove-Item $root -Recurse -Force -ErrorAction Ignore
}
