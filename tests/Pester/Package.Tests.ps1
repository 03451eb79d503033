# The built module packs into a .nupkg that installs from a PowerShell repository and imports.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1') -NoModule -NoServer
}

Describe 'Package' {
    It 'has the manifest fields the PowerShell Gallery shows, and its licence beside it' {
        $manifest = Test-ModuleManifest -Path $env:VLMCAPTION_MODULE
        $data = (Import-PowerShellDataFile $env:VLMCAPTION_MODULE).PrivateData.PSData
        $data.ProjectUri | Should -Match '^https://'
        $data.LicenseUri | Should -Be "$($data.ProjectUri)/blob/main/LICENSE"
        $data.ReleaseNotes | Should -BeLike "*$($manifest.Version)*"
        foreach ($cmdlet in $manifest.ExportedCmdlets.Keys) { $data.ReleaseNotes | Should -BeLike "*$cmdlet*" }
        Get-Content (Join-Path (Split-Path $env:VLMCAPTION_MODULE) 'LICENSE') -Raw | Should -Match 'Apache License\s+Version 2\.0'
    }

    It 'publishes to a local repository, installs from it, and imports in a fresh process' {
        $repository = "VlmCaptionTest$PID"
        $packages = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'packages')
        $installed = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'modules')
        Register-PSResourceRepository -Name $repository -Uri $packages.FullName -Trusted
        try {
            Publish-PSResource -Path (Split-Path $env:VLMCAPTION_MODULE) -Repository $repository -SkipDependenciesCheck
            $version = (Import-PowerShellDataFile $env:VLMCAPTION_MODULE).ModuleVersion
            (Get-ChildItem $packages).Name | Should -Be "VlmCaption.$version.nupkg"
            Save-PSResource -Name VlmCaption -Repository $repository -Path $installed.FullName -TrustRepository
        }
        finally {
            Unregister-PSResourceRepository -Name $repository
        }
        $manifest = Join-Path $installed "VlmCaption/$version/VlmCaption.psd1"
        $count = Invoke-FreshPwshScript { param($Manifest) Import-Module $Manifest; (Get-Module VlmCaption).ExportedCmdlets.Count } -ArgumentList $manifest
        $count | Select-Object -Last 1 | Should -Be ((Import-PowerShellDataFile $env:VLMCAPTION_MODULE).CmdletsToExport.Count)
    }
}
