# Runs every *.Tests.ps1 here with Pester from the NuGet packages folder and writes the counts as JSON.
param([Parameter(Mandatory)] [string] $ResultsPath, [string] $Only = '', [string] $ExcludeTag = '')

$ErrorActionPreference = 'Stop'
$pester = Join-Path $env:VLMCAPTION_NUGET 'pester/5.7.1/tools/Pester.psd1'
Import-Module $pester -MinimumVersion 5.7.1

# The examples' own tests run as a user's would, against the reference server named by VLMCAPTION_BASEURL.
Import-Module $env:VLMCAPTION_MODULE
Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1')
$server = Start-TestServer
$env:VLMCAPTION_BASEURL = $server.BaseUrl

$configuration = New-PesterConfiguration
$configuration.Run.Path = if ($Only) {
    # A part, for the edit-and-test loop: the files whose names contain one of the words.
    $words = $Only -split ','
    @(Get-ChildItem -LiteralPath $PSScriptRoot, (Join-Path $PSScriptRoot '../../examples') -Filter *.Tests.ps1 | Where-Object { $name = $_.Name; $words | Where-Object { $name -like "*$_*" } } | ForEach-Object FullName)
}
else {
    @($PSScriptRoot, (Join-Path $PSScriptRoot '../../examples'))
}
if ($ExcludeTag) {
    $configuration.Filter.ExcludeTag = @($ExcludeTag -split ',')
}

$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputPath = [IO.Path]::ChangeExtension($ResultsPath, '.xml')
try {
    $result = Invoke-Pester -Configuration $configuration
}
finally {
    Stop-TestServer $server
}

# A failing BeforeAll or a file that does not parse fails no single test, so count those too.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
@{ Passed = $result.PassedCount; Failed = $failed } | ConvertTo-Json | Set-Content -LiteralPath $ResultsPath
