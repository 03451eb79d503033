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
            ([System.Runtime.Loader.AssemblyLoadContext]::All | ForEach-Object { $_.Assemblies } | Where-Object { $_.GetName().Name -eq 'SixLabors.ImageSharp' }).Location
        } -ArgumentList $env:VLMCAPTION_MODULE, $image.FullName, $server.BaseUrl
        $lines[0] | Should -Be 1536
        @($lines | Select-Object -Skip 1) | Should -Be @((Join-Path $module 'Dependencies/netcoreapp3.1/SixLabors.ImageSharp.dll'))
    }
}
