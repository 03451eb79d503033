# The built module packs into a .nupkg that installs from a PowerShell repository and imports.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
}

Describe 'Package' {
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
