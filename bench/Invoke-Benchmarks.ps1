<#
.SYNOPSIS
    Runs every benchmark and prints the results; -Quick uses small sizes to check that they run.
#>
param([switch] $Quick)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
Write-Host "Machine: $(Get-MachineDescription)"
$results = @(
    if ($Quick) {
        & (Join-Path $PSScriptRoot 'Measure-Saturation.ps1') -Images 40 -Runs 1 -ThrottleLimit 1, 8
        & (Join-Path $PSScriptRoot 'Measure-ClientOverhead.ps1') -Count 20 -Runs 1
        & (Join-Path $PSScriptRoot 'Measure-Memory.ps1') -Counts 500
        & (Join-Path $PSScriptRoot 'Measure-Bytes.ps1') -Count 2
        & (Join-Path $PSScriptRoot 'Measure-Startup.ps1') -Runs 2
        & (Join-Path $PSScriptRoot 'Measure-RunCpu.ps1') -Count 50 -Runs 1
        & (Join-Path $PSScriptRoot 'Measure-ReviewPage.ps1') -Count 200
        & (Join-Path $PSScriptRoot 'Measure-BatchRun.ps1') -Counts 100
        & (Join-Path $PSScriptRoot 'Measure-RealServer.ps1') -Runs 1
        & (Join-Path $PSScriptRoot 'Measure-Clips.ps1') -Minutes 0.25 -Runs 1
        & (Join-Path $PSScriptRoot 'Measure-Models.ps1') -Images 16 -Runs 1
    }
    else {
        & (Join-Path $PSScriptRoot 'Measure-Saturation.ps1')
        & (Join-Path $PSScriptRoot 'Measure-ClientOverhead.ps1')
        & (Join-Path $PSScriptRoot 'Measure-Memory.ps1')
        & (Join-Path $PSScriptRoot 'Measure-Bytes.ps1')
        & (Join-Path $PSScriptRoot 'Measure-Startup.ps1')
        & (Join-Path $PSScriptRoot 'Measure-RunCpu.ps1')
        & (Join-Path $PSScriptRoot 'Measure-ReviewPage.ps1')
        & (Join-Path $PSScriptRoot 'Measure-BatchRun.ps1')
        & (Join-Path $PSScriptRoot 'Measure-RealServer.ps1')
        & (Join-Path $PSScriptRoot 'Measure-Clips.ps1')
        & (Join-Path $PSScriptRoot 'Measure-Models.ps1')
    }
)
foreach ($group in $results | Group-Object Benchmark) {
    $group.Group | Select-Object -ExcludeProperty Benchmark | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
}
