<#
.SYNOPSIS
    Bytes sent per image for 12-megapixel photographs: request size per turn and in total, with the default
    preparation and with the original file (-MaxImageSize 0), and the time spent preparing.
#>
param([int] $Count = 5, [int] $Prompts = 3)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
Import-Module (Get-BenchModulePath) -Force
$server = Start-TestServer -Arguments '--no-image-decode'
$folder = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-bytes-$PID"
try {
    New-BenchImages -Folder $folder -Count $Count -Width 4000 -Height 3000 -Format jpeg -Pattern photo
    $fileBytes = (Get-ChildItem $folder -File | Select-Object -First 1).Length
    $prompt = 1..$Prompts | ForEach-Object { "Prompt $_." }
    foreach ($maxImageSize in 1536, 0) {
        Reset-TestServer $server -Options @{ models = @('test'); noImageDecode = $true }
        $results = Get-ChildItem $folder -File | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -Prompt $prompt -MaxImageSize $maxImageSize
        $requests = Get-TestServerRequest $server
        $prepare = $results | ForEach-Object { $_.Seconds - ($_.Turns.Seconds | Measure-Object -Sum).Sum }
        [pscustomobject]@{
            Benchmark             = 'Bytes'
            Image                 = "4000x3000 JPEG, $([math]::Round($fileBytes / 1MB, 2)) MB"
            MaxImageSize          = $maxImageSize
            SentAs                = "$($results[0].SentWidth)x$($results[0].SentHeight) $($results[0].SentMediaType), $([math]::Round($results[0].SentBytes / 1KB)) KB"
            RequestKBPerTurn      = [math]::Round((Get-Median $requests.bytes) / 1KB)
            RequestKBPerImage     = [math]::Round(($requests.bytes | Measure-Object -Sum).Sum / $Count / 1KB)
            PrepareSecondsMedian  = [math]::Round((Get-Median $prepare), 3)
        }
    }
}
finally {
    Stop-TestServer $server
    Remove-Item $folder -Recurse -Force -ErrorAction Ignore
}
