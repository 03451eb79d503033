# VlmCaption must work in a session where other modules loaded older copies of its dependencies first.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1') -NoModule
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Dependency isolation' {
    It 'imports and captions after an older System.Memory.Data and YamlDotNet were loaded' {
        $image = New-TestImage $server (Join-Path $TestDrive 'iso.png') -Width 31 -Height 17 -Color purple
        $oldMemoryData = Join-Path $env:VLMCAPTION_NUGET 'system.memory.data/1.0.2/lib/netstandard2.0/System.Memory.Data.dll'
        $oldYaml = Join-Path $env:VLMCAPTION_NUGET 'yamldotnet/11.2.1/lib/netstandard2.1/YamlDotNet.dll'
        $script = {
            param($OldMemoryData, $OldYaml, $Module, $Image, $BaseUrl)
            $ErrorActionPreference = 'Stop'
            Add-Type -LiteralPath $OldMemoryData
            Add-Type -LiteralPath $OldYaml
            Import-Module $Module
            $result = Get-VlmCaption -LiteralPath $Image -BaseUrl $BaseUrl -Model test
            if ($result -isnot [VlmCaption.CaptionResult]) { throw 'The output type is not resolvable by name.' }
            $caption = $result.Caption
            $contexts = [System.Runtime.Loader.AssemblyLoadContext]::All | ForEach-Object {
                foreach ($assembly in $_.Assemblies) {
                    $name = $assembly.GetName()
                    if ($name.Name -in 'System.Memory.Data', 'YamlDotNet', 'OpenAI', 'VlmCaption.Core', 'VlmCaption.Types') {
                        [pscustomobject]@{ Context = $_.Name; Name = $name.Name; Major = $name.Version.Major }
                    }
                }
            }
            @{ Caption = $caption; Assemblies = @($contexts) } | ConvertTo-Json -Depth 4 -Compress
        }
        $output = Invoke-FreshPwshScript $script -ArgumentList $oldMemoryData, $oldYaml, $env:VLMCAPTION_MODULE, $image.FullName, $server.BaseUrl 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
        $report = ($output | Select-Object -Last 1) | ConvertFrom-Json

        $report.Caption | Should -BeLike 'Purple * image, 31x17 pixels*'
        $loaded = $report.Assemblies
        ($loaded | Where-Object { $_.Name -eq 'System.Memory.Data' -and $_.Context -eq 'Default' }).Major | Should -Be 1
        ($loaded | Where-Object { $_.Name -eq 'System.Memory.Data' -and $_.Context -eq 'VlmCaption' }).Major | Should -BeGreaterOrEqual 10
        ($loaded | Where-Object { $_.Name -eq 'YamlDotNet' -and $_.Context -eq 'Default' }).Major | Should -Be 11
        ($loaded | Where-Object { $_.Name -eq 'YamlDotNet' -and $_.Context -eq 'VlmCaption' }).Major | Should -Be 18
        ($loaded | Where-Object { $_.Name -eq 'VlmCaption.Core' }).Context | Should -Be 'VlmCaption'
        ($loaded | Where-Object { $_.Name -eq 'VlmCaption.Types' }).Context | Should -Be 'Default'
    }
}

Describe 'ImageSharp for the runtime' {
    It 'loads the netcoreapp3.1 build of ImageSharp on PowerShell 7, and ships the portable one for Windows PowerShell' {
        $module = Split-Path $env:VLMCAPTION_MODULE
        Test-Path (Join-Path $module 'Dependencies/SixLabors.ImageSharp.dll') | Should -BeTrue
        Test-Path (Join-Path $module 'Dependencies/netcoreapp3.1/SixLabors.ImageSharp.dll') | Should -BeTrue
        $image = New-TestImage $server (Join-Path $TestDrive 'big.jpg') -Width 2000 -Height 1600 -Format jpeg
        $lines = Invoke-FreshPwshScript {
            param($Module, $Image, $BaseUrl)
            Import-Module $Module
            $result = Get-VlmCaption -LiteralPath $Image -BaseUrl $BaseUrl -Model test
            $result.SentWidth
            $imageSharp = [System.Runtime.Loader.AssemblyLoadContext]::All | ForEach-Object { $_.Assemblies } | Where-Object { $_.GetName().Name -eq 'SixLabors.ImageSharp' }
            @($imageSharp).Count
            $imageSharp.GetCustomAttributes([System.Runtime.Versioning.TargetFrameworkAttribute], $false).FrameworkName
        } -ArgumentList $env:VLMCAPTION_MODULE, $image.FullName, $server.BaseUrl
        $lines[0] | Should -Be 1536
        $lines[1] | Should -Be 1
        # The build with hardware intrinsics, whether the ahead-of-time compiled copy of it or the plain one.
        $lines[2] | Should -Be '.NETCoreApp,Version=v3.1'
    }
}

Describe 'Ahead-of-time compiled dependencies' {
    BeforeAll {
        $os = if ($IsWindows) { 'win' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
        $runtime = "net$([Environment]::Version.Major).0-$os-$([Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant())"
        $built = Join-Path (Split-Path $env:VLMCAPTION_MODULE) "Dependencies/ReadyToRun/$runtime"

        # One 64x48 PNG captioned in a fresh process: where Core and ImageSharp came from, and how many methods the
        # JIT compiled in the whole process (a count, not a time: the same on a busy machine).
        function Get-RunReport([string] $ModuleFolder) {
            $lines = Invoke-FreshPwshScript {
                param($Module, $Image, $BaseUrl)
                Import-Module $Module
                $null = Get-VlmCaption -LiteralPath $Image -BaseUrl $BaseUrl -Model test
                $loaded = [System.Runtime.Loader.AssemblyLoadContext]::All | ForEach-Object { $_.Assemblies }
                ($loaded | Where-Object { $_.GetName().Name -eq 'VlmCaption.Core' }).Location
                ($loaded | Where-Object { $_.GetName().Name -eq 'SixLabors.ImageSharp' }).Location
                [System.Runtime.JitInfo]::GetCompiledMethodCount($false)
            } -ArgumentList (Join-Path $ModuleFolder 'VlmCaption.psd1'), $script:image.FullName, $server.BaseUrl
            [pscustomobject]@{ Core = $lines[-3]; ImageSharp = $lines[-2]; JitMethods = [int]$lines[-1] }
        }
    }

    It 'were built for this runtime, and the runtime uses their code: the JIT compiles hundreds of methods fewer' {
        if (-not (Test-Path $built)) {
            # build.ps1 warns when the compiler package cannot be had; anything else is a broken build.
            Set-ItResult -Skipped -Because "the build made no ReadyToRun copies for $runtime (see its warning)"
            return
        }
        $script:image = New-TestImage $server (Join-Path $TestDrive 'r2r.png') -Width 64 -Height 48
        # Two copies of the module, so both runs are an import from a path PowerShell has not seen: one as built,
        # one whose compiled copies are named for another runtime, which must leave them alone.
        $ready = Join-Path $TestDrive 'ready/VlmCaption'
        $other = Join-Path $TestDrive 'other/VlmCaption'
        New-Item -ItemType Directory (Split-Path $ready), (Split-Path $other) | Out-Null
        Copy-Item (Split-Path $env:VLMCAPTION_MODULE) $ready -Recurse
        Copy-Item (Split-Path $env:VLMCAPTION_MODULE) $other -Recurse
        Rename-Item (Join-Path $other "Dependencies/ReadyToRun/$runtime") 'net8.0-otheros-x64'

        $withCopies = Get-RunReport $ready
        $withoutCopies = Get-RunReport $other

        $withCopies.Core | Should -Be (Join-Path $ready "Dependencies/ReadyToRun/$runtime/VlmCaption.Core.dll")
        $withCopies.ImageSharp | Should -Be (Join-Path $ready "Dependencies/ReadyToRun/$runtime/SixLabors.ImageSharp.dll")
        $withoutCopies.Core | Should -Be (Join-Path $other 'Dependencies/VlmCaption.Core.dll')
        $withoutCopies.ImageSharp | Should -Be (Join-Path $other 'Dependencies/netcoreapp3.1/SixLabors.ImageSharp.dll')
        # Measured here: about 7 400 against 8 800. Code compiled for another .NET major version would be ignored
        # by the runtime and give no difference.
        $withCopies.JitMethods | Should -BeLessThan ($withoutCopies.JitMethods - 500) -Because "with the compiled copies $($withCopies.JitMethods), without $($withoutCopies.JitMethods)"
    }
}
