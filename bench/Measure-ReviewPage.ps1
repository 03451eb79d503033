<#
.SYNOPSIS
    The review page at scale: time and memory to write a page of -Count images (photographs, thumbnails made
    on every core), its size, and how long headless Chromium takes to open it and how many rows it puts in the
    document at first.
#>
param([int] $Count = 10000, [int] $Width = 1024, [int] $Height = 768)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
$module = Get-BenchModulePath
$folder = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-review-$PID"
try {
    New-BenchImages -Folder $folder -Count $Count -Width $Width -Height $Height -Format jpeg -Pattern photo
    $line = Invoke-FreshPwshScript {
        param($Module, $Folder)
        Import-Module $Module
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $cpu = [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime
        Get-ChildItem $Folder -File -Filter 'img*' | ForEach-Object {
            [pscustomobject]@{ PSPath = $_.FullName; Caption = "A photograph numbered $($_.BaseName), with a long enough caption to be typical of a training set."; Model = 'bench'; Tokens = 40; Seconds = 1.5 }
        } | Export-VlmReviewPage (Join-Path $Folder 'review.html')
        $process = [Diagnostics.Process]::GetCurrentProcess()
        "$($clock.Elapsed.TotalSeconds) $(($process.TotalProcessorTime - $cpu).TotalSeconds) $($process.PeakWorkingSet64)"
    } -ArgumentList $module, $folder | Select-Object -Last 1
    Write-Verbose "Writer: $line"
    $seconds, $cpuSeconds, $peak = $line -split ' '
    $page = Get-Item (Join-Path $folder 'review.html')

    $browser = Find-Chromium
    $openSeconds = $null
    $rows = $null
    if ($browser) {
        # Real time to load, parse the data and render the first rows (a budget of virtual time caps the idle wait).
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $dom = Invoke-HeadlessChromium -Browser $browser -Path $page.FullName -BudgetMs 1000 -TimeoutSec 300
        $openSeconds = [math]::Round($clock.Elapsed.TotalSeconds, 1)
        $rows = [regex]::Matches($dom, '<tr class="item"').Count
        if ($dom -notmatch "Showing $Count of $Count") { throw "The page did not show every image: $([regex]::Match($dom, '<span id=.count.>[^<]*').Value)" }
    }
    [pscustomobject]@{
        Benchmark      = 'ReviewPage'
        Images         = $Count
        WriteSeconds   = [math]::Round([double]$seconds, 1)
        CpuMsPerImage  = [math]::Round([double]$cpuSeconds * 1000 / $Count, 1)
        PeakMB         = [math]::Round([double]$peak / 1MB)
        PageMB         = [math]::Round($page.Length / 1MB, 1)
        OpenSeconds    = $openSeconds
        RowsAtFirst    = $rows
    }
}
finally {
    Remove-Item $folder -Recurse -Force -ErrorAction Ignore
}
