<#
.SYNOPSIS
    Start-up: Import-Module time, and the time from the first Get-VlmCaption call to its first result, in a
    fresh process (so loading and JIT compilation are counted).
#>
param([int] $Runs = 5)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
$module = Get-BenchModulePath
$server = Start-TestServer
$folder = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-startup-$PID"
try {
    New-BenchImages -Folder $folder -Count 1 -Width 640 -Height 480 -Format jpeg -Pattern photo
    $image = (Get-ChildItem $folder -File)[0].FullName
    $samples = foreach ($run in 1..$Runs) {
        $line = Invoke-FreshPwshScript {
            param($Module, $Image, $BaseUrl)
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Import-Module $Module
            $import = $clock.Elapsed.TotalMilliseconds
            $clock.Restart()
            Get-VlmCaption -LiteralPath $Image -BaseUrl $BaseUrl -Model test | Out-Null
            "$import $($clock.Elapsed.TotalMilliseconds)"
        } -ArgumentList $module, $image, $server.BaseUrl | Select-Object -Last 1
        $import, $first = $line -split ' '
        [pscustomobject]@{ Import = [double]$import; First = [double]$first }
    }
    [pscustomobject]@{
        Benchmark            = 'Startup'
        ImportModuleMs       = [math]::Round((Get-Median $samples.Import))
        FirstCaptionMs       = [math]::Round((Get-Median $samples.First))
    }
}
finally {
    Stop-TestServer $server
    Remove-Item $folder -Recurse -Force -ErrorAction Ignore
}
