# Shared by the benchmark scripts: the built module and reference server, generated image folders, medians.
$Root = Split-Path $PSScriptRoot
# VLMCAPTION_BENCH_MODULE measures another build (an older commit's, for before and after).
$ModulePath = if ($env:VLMCAPTION_BENCH_MODULE) { $env:VLMCAPTION_BENCH_MODULE } else { Join-Path $Root 'out/VlmCaption/VlmCaption.psd1' }
$env:VLMCAPTION_TESTSERVER = Join-Path $Root 'out/TestServer/VlmCaption.TestServer.dll'
Import-Module (Join-Path $Root 'tests/TestHelpers.psm1') -Force -Global

function Get-BenchModulePath {
    if (-not (Test-Path $ModulePath)) { throw 'Build first: dotnet pwsh ./build.ps1 Build' }
    # A full path: the scripts hand it to processes of their own, which may start elsewhere.
    (Resolve-Path -LiteralPath $ModulePath).ProviderPath
}

function New-BenchImages {
    <# Writes one generated image and copies it Count times into Folder (optionally spread over Subfolders). #>
    param([string] $Folder, [int] $Count, [int] $Width = 64, [int] $Height = 48, [string] $Format = 'png', [string] $Pattern = 'solid', [int] $Subfolders = 0)
    New-Item -ItemType Directory -Path $Folder -Force | Out-Null
    $source = Join-Path $Folder "source.$Format"
    & dotnet $env:VLMCAPTION_TESTSERVER make-image --out $source --width $Width --height $Height --format $Format --pattern $Pattern
    for ($i = 0; $i -lt $Count; $i++) {
        $dir = if ($Subfolders -gt 0) { Join-Path $Folder ('d{0:000}' -f ($i % $Subfolders)) } else { $Folder }
        if ($Subfolders -gt 0 -and $i -lt $Subfolders) { New-Item -ItemType Directory -Path $dir -Force | Out-Null }
        [IO.File]::Copy($source, (Join-Path $dir ('img{0:000000}.{1}' -f $i, $Format)))
    }
    Remove-Item $source
}

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    if ($sorted.Count % 2) { $sorted[[int][math]::Floor($sorted.Count / 2)] } else { ($sorted[$sorted.Count / 2 - 1] + $sorted[$sorted.Count / 2]) / 2 }
}

function Invoke-WithEnvironment {
    <# Runs the block with these environment variables set, then restores them: for the processes the block starts only. #>
    param([hashtable] $Environment, [Parameter(Mandatory)] [scriptblock] $ScriptBlock)
    $saved = @{}
    foreach ($name in $Environment.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, [string]$Environment[$name]) }
    try { & $ScriptBlock }
    finally { foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) } }
}

function Format-Environment([hashtable] $Environment) {
    ($Environment.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ' '
}

function Get-MachineDescription {
    $cpu = (Get-Content /proc/cpuinfo -ErrorAction Ignore | Select-String '^model name' | Select-Object -First 1) -replace '.*:\s*'
    $memoryKB = [double]((Get-Content /proc/meminfo -TotalCount 1) -replace '\D')
    "$([Environment]::ProcessorCount) cores ($cpu), $([math]::Round($memoryKB / 1MB)) GiB, $([Runtime.InteropServices.RuntimeInformation]::OSDescription), PowerShell $($PSVersionTable.PSVersion)"
}

Export-ModuleMember -Function Get-BenchModulePath, New-BenchImages, Get-Median, Invoke-WithEnvironment, Format-Environment, Get-MachineDescription
