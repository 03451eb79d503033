# How a user tests a captioning script: run it against a server and check the files it writes.
# Point VLMCAPTION_BASEURL at your server (VlmCaption's own test run sets it to its reference server).
BeforeAll {
    if (-not (Get-Module VlmCaption)) { Import-Module VlmCaption }
    $baseUrl = if ($env:VLMCAPTION_BASEURL) { $env:VLMCAPTION_BASEURL } else { 'http://localhost:1234/v1' }
    $folder = Join-Path $TestDrive 'dataset'
    Copy-Item (Join-Path $PSScriptRoot 'images') $folder -Recurse
}

Describe 'Invoke-FolderCaption.ps1' {
    It 'writes one caption, starting with the trigger word, for every image' {
        $written = & (Join-Path $PSScriptRoot 'Invoke-FolderCaption.ps1') -Folder $folder -BaseUrl $baseUrl -TriggerWord 'vlmx'

        $images = Get-ChildItem $folder -File -Recurse | Where-Object Extension -in '.png', '.jpg', '.webp'
        $written.Count | Should -Be $images.Count
        foreach ($image in $images) {
            $caption = Join-Path $image.DirectoryName "$($image.BaseName).txt"
            Get-Content -LiteralPath $caption -Raw | Should -Match '^vlmx, \S'
        }
    }

    It 'skips what is already captioned on a second run' {
        $written = & (Join-Path $PSScriptRoot 'Invoke-FolderCaption.ps1') -Folder $folder -BaseUrl $baseUrl -TriggerWord 'vlmx'
        $written | Should -BeNullOrEmpty
    }
}
