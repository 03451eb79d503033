<#
.SYNOPSIS
    Peak working set of the pwsh process captioning many small images in nested folders, by
    Invoke-VlmCaptionRun and by Get-ChildItem -Recurse | Get-VlmCaption | Save-VlmCaption, at each count.
#>
param([int[]] $Counts = @(10000, 100000), [int] $ThrottleLimit = 8)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
$module = Get-BenchModulePath
$server = Start-TestServer -Arguments '--no-image-decode', '--no-log'
$root = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-memory-$PID"
try {
    foreach ($count in $Counts) {
        $folder = Join-Path $root "n$count"
        New-BenchImages -Folder (Join-Path $folder 'images') -Count $count -Subfolders ([math]::Max(1, $count / 1000))
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe.]`nbase_directory: images`nrecursive: true`nconcurrent_batch_size: $ThrottleLimit"
        $ways = [ordered]@{
            'Invoke-VlmCaptionRun'                          = { param($Module, $Folder, $Config, $BaseUrl, $Limit) Import-Module $Module; Invoke-VlmCaptionRun $Config | Out-Null }
            'Get-ChildItem | Get-VlmCaption | Save-VlmCaption' = { param($Module, $Folder, $Config, $BaseUrl, $Limit) Import-Module $Module; Get-ChildItem (Join-Path $Folder 'images') -Recurse -File | Get-VlmCaption -BaseUrl $BaseUrl -Model test -ThrottleLimit $Limit | Save-VlmCaption -Force }
        }
        foreach ($way in $ways.GetEnumerator()) {
            Get-ChildItem (Join-Path $folder 'images') -Recurse -Filter *.txt | Remove-Item
            $measure = [scriptblock]::Create("param(`$Module, `$Folder, `$Config, `$BaseUrl, `$Limit) `$clock = [Diagnostics.Stopwatch]::StartNew(); & { $($way.Value) } @PSBoundParameters; `$clock.Stop(); '{0} {1}' -f [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64, `$clock.Elapsed.TotalSeconds")
            $line = Invoke-FreshPwshScript $measure -ArgumentList $module, $folder, $config, $server.BaseUrl, $ThrottleLimit | Select-Object -Last 1
            $peak, $seconds = $line -split ' '
            $written = @(Get-ChildItem (Join-Path $folder 'images') -Recurse -Filter *.txt).Count
            [pscustomobject]@{
                Benchmark       = 'Memory'
                Way             = $way.Key
                Images          = $count
                Captioned       = $written
                PeakWorkingSetMB = [math]::Round([double]$peak / 1MB)
                Seconds         = [math]::Round([double]$seconds, 1)
            }
        }
        Remove-Item $folder -Recurse -Force
    }
}
finally {
    Stop-TestServer $server
    Remove-Item $root -Recurse -Force -ErrorAction Ignore
}
