#Requires -Version 7.2
<#
.SYNOPSIS
    Builds, tests, packages and demonstrates the VlmCaption module.
.DESCRIPTION
    Build    assembles out/VlmCaption (importable with Import-Module ./out/VlmCaption/VlmCaption.psd1)
             and the reference server in out/TestServer. The module's dependencies are also compiled ahead
             of time for the .NET and platform the build runs on (Dependencies/ReadyToRun).
    Test     builds, runs the xunit and the Pester suites, and prints 'N passed, M failed' last. About 6 minutes
             on a quiet 2-core machine, 15-25 on a busy one. -Only runs a part, and -Quick leaves out the tests
             tagged Slow (about a minute of the suite), for the edit-and-test loop.
    Package  builds and writes out/packages/VlmCaption.<version>.nupkg (portable: without Dependencies/ReadyToRun).
    Demo     builds (without the ahead-of-time copies, to start sooner), starts the reference server, captions
             examples/images in a temporary folder.
    Clean    removes out/ and every bin/ and obj/.
    UpdateHelp rewrites the syntax and parameter metadata of docs/en-US/*.md from the built cmdlets.
    Bench    builds, then runs the benchmarks in bench/ (long; see docs/benchmarks.md).
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
.EXAMPLE
    dotnet pwsh ./build.ps1 Test -Only Batch, Trainers

    Builds, then runs only the Pester files whose names contain Batch or Trainers (xunit too when -Only names xunit).
.EXAMPLE
    dotnet pwsh ./build.ps1 Test -Quick

    Builds, then runs xunit and every Pester test but those tagged Slow (kills, signals, long streams, expiry).
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Package', 'Demo', 'Clean', 'UpdateHelp', 'Bench')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Test: run only the Pester files whose names contain one of these, and xunit only when one of them is 'xunit'.
    [string[]] $Only = @(),

    # Test: leave out the Pester tests tagged Slow, for the edit-and-test loop; CI and the README run them all.
    [switch] $Quick
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

# From a shell, "-Only xunit,Batch" (or "Batch, Trainers") arrives as one or more texts with commas in them.
$Only = @($Only | ForEach-Object { $_ -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ })

$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'VlmCaption'
$ServerOut = Join-Path $Out 'TestServer'
$ResultsOut = Join-Path $Out 'TestResults'
$Version = (Import-PowerShellDataFile (Join-Path $Root 'VlmCaption.psd1')).ModuleVersion

Import-Module (Join-Path $Root 'tests/TestHelpers.psm1') -Force
Import-Module (Join-Path $Root 'build/Help.psm1') -Force

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE." }
}

function Copy-CoreImageSharp([string] $Dependencies) {
    # The netstandard2.0 build of ImageSharp, which Windows PowerShell 5.1 needs, has none of the hardware
    # intrinsics of its netcoreapp3.1 build: on PowerShell 7 that one decodes and scales a photo in about two
    # thirds of the CPU time (bench/Measure-ClientOverhead.ps1). Both go in the module; ModuleInitializer loads
    # the one the runtime can use. Same version, same API, from the same package.
    [xml] $props = Get-Content (Join-Path $Root 'Directory.Packages.props') -Raw
    $version = ($props.Project.ItemGroup.PackageVersion | Where-Object Include -EQ 'SixLabors.ImageSharp').Version.Trim('[', ']')
    $packages = ((& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
    $source = Join-Path $packages "sixlabors.imagesharp/$version/lib/netcoreapp3.1/SixLabors.ImageSharp.dll"
    if (-not (Test-Path $source)) { throw "ImageSharp's netcoreapp3.1 build is not at '$source'; restore first." }
    $target = New-Item -ItemType Directory -Path (Join-Path $Dependencies 'netcoreapp3.1') -Force
    Copy-Item $source $target
}

function Add-ReadyToRun([string] $Dependencies) {
    # The JIT compiles about 1 400 of the module's methods in every run; where the server computes on the same
    # machine (a local model), each CPU-second of that is one the server loses (bench/Measure-RunCpu.ps1). So the
    # dependencies are also compiled ahead of time (ReadyToRun) for the .NET and the platform this build runs on,
    # into Dependencies/ReadyToRun/<net10.0-linux-x64>/, which ModuleInitializer prefers on that runtime only.
    # ReadyToRun code is used only by the .NET major version it was compiled for. Publishing is incremental, so
    # a rebuild recompiles only what changed. Without the compiler package (offline) the module works as before.
    $os = if ($IsWindows) { 'win' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
    $rid = "$os-$([Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant())"
    $framework = "net$([Environment]::Version.Major).0"
    $compiled = Join-Path $Out "readytorun/$framework-$rid"
    & dotnet publish (Join-Path $Root 'src/VlmCaption.ReadyToRun') -c $Configuration -r $rid -o $compiled "-p:Version=$Version" "-p:TargetFramework=$framework" --nologo -v quiet | Out-Host
    if ($LASTEXITCODE -ne 0) {
        Write-Warning "The ahead-of-time compiled copies for $framework-$rid could not be made (dotnet publish exit code $LASTEXITCODE); the module works without them, with more JIT compilation."
        return
    }
    $target = New-Item -ItemType Directory -Path (Join-Path $Dependencies "ReadyToRun/$framework-$rid") -Force
    foreach ($file in Get-ChildItem $Dependencies -Filter *.dll -File) {
        $source = Join-Path $compiled $file.Name
        if (Test-Path $source) { Copy-Item $source $target }
    }
}

function Invoke-Build([switch] $NoReadyToRun) {
    $publish = Join-Path $Out 'publish'
    Remove-Item $publish, $ModuleOut -Recurse -Force -ErrorAction Ignore
    Invoke-Dotnet publish (Join-Path $Root 'src/VlmCaption.PowerShell') -c $Configuration -o $publish "-p:Version=$Version" --nologo -v quiet

    # The cmdlet assembly and the public types sit at the root; everything else goes to Dependencies/,
    # which only ModuleInitializer loads (into a private load context on PowerShell 7).
    $dependencies = New-Item -ItemType Directory -Path (Join-Path $ModuleOut 'Dependencies') -Force
    foreach ($file in Get-ChildItem $publish -File) {
        if ($file.BaseName -in 'VlmCaption.PowerShell', 'VlmCaption.Types') {
            if ($file.Extension -in '.dll', '.pdb') { Copy-Item $file.FullName $ModuleOut }
        }
        elseif ($file.Extension -in '.dll', '.pdb') {
            Copy-Item $file.FullName $dependencies
        }
    }
    Copy-CoreImageSharp $dependencies
    if (-not $NoReadyToRun) { Add-ReadyToRun $dependencies }
    Copy-Item (Join-Path $Root 'VlmCaption.psd1'), (Join-Path $Root 'LICENSE') $ModuleOut
    Copy-Item (Join-Path $Root 'src/VlmCaption.PowerShell/VlmCaption.Format.ps1xml') $ModuleOut
    $helpOut = New-Item -ItemType Directory -Path (Join-Path $ModuleOut 'en-US') -Force
    ConvertTo-MamlHelp -Folder (Join-Path $Root 'docs/en-US') -OutputPath (Join-Path $helpOut 'VlmCaption.PowerShell.dll-Help.xml')
    foreach ($about in Get-ChildItem (Join-Path $Root 'docs/en-US') -Filter 'about_*.md') {
        ConvertTo-AboutHelp -Path $about.FullName -OutputPath (Join-Path $helpOut "$($about.BaseName).help.txt")
    }
    Remove-Item $publish -Recurse -Force

    Invoke-Dotnet build (Join-Path $Root 'tests/VlmCaption.TestServer') -c $Configuration -o $ServerOut --nologo -v quiet
    Write-Host "Module: $ModuleOut"
}

function Get-NuGetPackageFolder {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    return Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages'
}

function Invoke-XunitTests {
    $trx = Join-Path $ResultsOut 'core.trx'
    Remove-Item $trx -ErrorAction Ignore
    & dotnet test (Join-Path $Root 'tests/VlmCaption.Core.Tests') -c $Configuration --nologo `
        --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' | Out-Host
    if (-not (Test-Path $trx)) {
        Write-Host 'xunit: no results were written (build or runner failure).' -ForegroundColor Red
        return [pscustomobject]@{ Passed = 0; Failed = 1 }
    }
    $counters = ([xml](Get-Content $trx -Raw)).TestRun.ResultSummary.Counters
    [pscustomobject]@{ Passed = [int]$counters.passed; Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted }
}

function Invoke-PesterTests {
    Invoke-Dotnet restore (Join-Path $Root 'tests/tools/TestTools.csproj') --nologo -v quiet
    $counts = Join-Path $ResultsOut 'pester-counts.json'
    Remove-Item $counts -ErrorAction Ignore
    $env:VLMCAPTION_MODULE = Join-Path $ModuleOut 'VlmCaption.psd1'
    $env:VLMCAPTION_TESTSERVER = Join-Path $ServerOut 'VlmCaption.TestServer.dll'
    $env:VLMCAPTION_NUGET = Get-NuGetPackageFolder
    $part = @($Only | Where-Object { $_ -ne 'xunit' })
    if ($Only.Count -gt 0 -and $part.Count -eq 0) { return [pscustomobject]@{ Passed = 0; Failed = 0 } }
    Invoke-FreshPwsh -Arguments (@('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tests/Pester/Invoke-PesterSuite.ps1'), '-ResultsPath', $counts) + @(if ($part.Count -gt 0) { '-Only', ($part -join ',') }) + @(if ($Quick) { '-ExcludeTag', 'Slow' })) | Out-Host
    if (-not (Test-Path $counts)) {
        Write-Host 'Pester: no results were written (the runner failed).' -ForegroundColor Red
        return [pscustomobject]@{ Passed = 0; Failed = 1 }
    }
    Get-Content $counts -Raw | ConvertFrom-Json
}

function Invoke-Test {
    Invoke-Build
    New-Item -ItemType Directory -Path $ResultsOut -Force | Out-Null
    $xunit = if ($Only.Count -eq 0 -or $Only -contains 'xunit') { Invoke-XunitTests } else { [pscustomobject]@{ Passed = 0; Failed = 0 } }
    $pester = Invoke-PesterTests
    Write-Host "xunit: $($xunit.Passed) passed, $($xunit.Failed) failed. Pester: $($pester.Passed) passed, $($pester.Failed) failed."
    $failed = $xunit.Failed + $pester.Failed
    Write-Output "$($xunit.Passed + $pester.Passed) passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Package {
    Invoke-Build
    $packages = New-Item -ItemType Directory -Path (Join-Path $Out 'packages') -Force
    $repository = "VlmCaptionBuild$PID"
    Register-PSResourceRepository -Name $repository -Uri $packages.FullName -Trusted
    # The package is for every platform: the ahead-of-time compiled copies, made for this machine's runtime and
    # platform only (tens of MB), stay out of it. An installed module runs on its portable copies.
    $stage = Join-Path $Out 'package-stage/VlmCaption'
    Remove-Item (Split-Path $stage) -Recurse -Force -ErrorAction Ignore
    New-Item -ItemType Directory (Split-Path $stage) | Out-Null
    Copy-Item $ModuleOut $stage -Recurse
    Remove-Item (Join-Path $stage 'Dependencies/ReadyToRun') -Recurse -Force -ErrorAction Ignore
    try {
        Publish-PSResource -Path $stage -Repository $repository -SkipDependenciesCheck
    }
    finally {
        Unregister-PSResourceRepository -Name $repository
        Remove-Item (Split-Path $stage) -Recurse -Force
    }
    Get-ChildItem $packages -Filter "VlmCaption.$Version.nupkg" | ForEach-Object { Write-Host "Package: $($_.FullName)" }
}

function Invoke-Demo {
    # The first thing a new user runs: it starts sooner without the ahead-of-time copies (about half a minute
    # and a download of the compiler), which a demonstration against the reference server does not need.
    Invoke-Build -NoReadyToRun
    $server = Start-TestServer -ServerPath (Join-Path $ServerOut 'VlmCaption.TestServer.dll') -Arguments '--latency-ms', '150'
    $work = Join-Path ([IO.Path]::GetTempPath()) "vlmcaption-demo-$PID"
    try {
        New-Item -ItemType Directory -Path $work | Out-Null
        Copy-Item (Join-Path $Root 'examples/images') $work -Recurse
        Write-Host "Reference server: $($server.BaseUrl)   Images: $(Join-Path $work 'images')"
        $command = {
            param($Module, $BaseUrl, $Folder, $Examples)
            Import-Module $Module
            Set-Location $Folder
            Write-Host "`nThe pipeline way:"
            Write-Host "PS> `$results = Get-ChildItem -File | Get-VlmCaption -BaseUrl $BaseUrl -Model test -ThrottleLimit 4"
            $results = Get-ChildItem -File | Get-VlmCaption -BaseUrl $BaseUrl -Model test -ThrottleLimit 4
            $results | Format-Table | Out-Host
            Write-Host 'PS> $results | Save-VlmCaption -PassThru'
            $results | Save-VlmCaption -PassThru | Format-Table Name, Length | Out-Host
            Write-Host 'Caption files:'
            Get-ChildItem -Filter *.txt | ForEach-Object { Write-Host ("  {0}: {1}" -f $_.Name, (Get-Content $_.FullName -Raw)) }

            Write-Host "`nThe caption.yaml way (examples/caption.yaml: two prompts, hints, a codex, a trigger word):"
            Copy-Item (Join-Path $Examples 'caption.yaml'), (Join-Path $Examples 'codex.txt') -Destination (Split-Path $Folder)
            Copy-Item (Join-Path $Examples 'hints') -Destination (Split-Path $Folder) -Recurse
            $config = Import-VlmCaptionConfig (Join-Path (Split-Path $Folder) 'caption.yaml')
            $config.BaseUrl = @($BaseUrl)
            $config.BaseDirectory = $Folder
            $config.SkipIfCaptionExists = $false
            Write-Host 'PS> Invoke-VlmCaptionRun ./caption.yaml'
            $config | Invoke-VlmCaptionRun | Out-Host
            Write-Host ("red-square.txt: {0}" -f (Get-Content (Join-Path $Folder 'red-square.txt') -Raw))
        }
        Invoke-FreshPwshScript $command -ArgumentList (Join-Path $ModuleOut 'VlmCaption.psd1'), $server.BaseUrl, (Join-Path $work 'images'), (Join-Path $Root 'examples')
        if ($LASTEXITCODE -ne 0) { throw "The demo failed with exit code $LASTEXITCODE." }
    }
    finally {
        Stop-TestServer $server
        Remove-Item $work -Recurse -Force -ErrorAction Ignore
    }
}

function Invoke-UpdateHelp {
    Invoke-Build
    $update = {
        param($Module, $HelpModule, $Folder)
        Import-Module $Module
        Import-Module $HelpModule
        Update-HelpMarkdown -ModuleName VlmCaption -Folder $Folder
    }
    Invoke-FreshPwshScript $update -ArgumentList (Join-Path $ModuleOut 'VlmCaption.psd1'), (Join-Path $Root 'build/Help.psm1'), (Join-Path $Root 'docs/en-US')
}

function Invoke-Clean {
    Remove-Item $Out -Recurse -Force -ErrorAction Ignore
    Get-ChildItem $Root -Directory -Recurse -Include bin, obj | Remove-Item -Recurse -Force
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Package' { Invoke-Package }
    'Demo' { Invoke-Demo }
    'Clean' { Invoke-Clean }
    'UpdateHelp' { Invoke-UpdateHelp }
    'Bench' { Invoke-Build; & (Join-Path $Root 'bench/Invoke-Benchmarks.ps1') }
}
