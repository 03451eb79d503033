BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')

    function Get-Caption([string] $Path, [string[]] $Prompt = @('Describe.'), [int] $MaxTokens = 100) {
        Get-VlmCaption -LiteralPath $Path -BaseUrl $server.BaseUrl -Model test -Prompt $Prompt -MaxTokens $MaxTokens
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Save-VlmCaption' {
    BeforeEach {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
    }

    It 'writes <stem>.txt beside the image as UTF-8 without BOM or trailing newline, with prefix and suffix' {
        $image = New-TestImage $server (Join-Path $folder 'cat é.png') -Width 20 -Height 10
        $file = Get-Caption $image.FullName | Save-VlmCaption -Prefix 'ohwx cat, ' -Suffix ' [done]' -PassThru

        $file | Should -BeOfType System.IO.FileInfo
        $file.FullName | Should -Be (Join-Path $folder 'cat é.txt')
        $bytes = [IO.File]::ReadAllBytes($file.FullName)
        $bytes[0..2] | Should -Not -Be @(0xEF, 0xBB, 0xBF)
        $text = [Text.Encoding]::UTF8.GetString($bytes)
        $text | Should -BeLike 'ohwx cat, Red * image, 20x10 pixels.* `[done`]'
        $text | Should -Not -Match '\n$'
        Get-ChildItem $folder -Force -Filter '*.tmp' | Should -BeNullOrEmpty
    }

    It 'does not overwrite an existing caption without -Force, and does with it' {
        $image = New-TestImage $server (Join-Path $folder 'a.png')
        Set-Content -LiteralPath (Join-Path $folder 'a.txt') -Value 'hand-written' -NoNewline
        $result = Get-Caption $image.FullName

        $result | Save-VlmCaption -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'CaptionExists,VlmCaption.PowerShell.Commands.SaveVlmCaptionCommand'
        $errors[0].TargetObject | Should -Be $image.FullName
        Get-Content -LiteralPath (Join-Path $folder 'a.txt') -Raw | Should -Be 'hand-written'

        $result | Save-VlmCaption -Force
        Get-Content -LiteralPath (Join-Path $folder 'a.txt') -Raw | Should -BeLike 'Red * image*'
    }

    It 'writes nothing with -WhatIf' {
        $image = New-TestImage $server (Join-Path $folder 'w.png')
        Get-Caption $image.FullName | Save-VlmCaption -WhatIf
        Test-Path (Join-Path $folder 'w.txt') | Should -BeFalse
    }

    It 'refuses a truncated caption unless forced' {
        $image = New-TestImage $server (Join-Path $folder 't.png')
        $result = Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl -Model test -MaxTokens 2 -WarningVariable warnings -WarningAction SilentlyContinue
        $result.Status | Should -Be 'Truncated'
        $warnings[0] | Should -BeLike '*cut off by the answer limit (2 tokens)*'

        $result | Save-VlmCaption -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'CaptionTruncated,*'
        Test-Path (Join-Path $folder 't.txt') | Should -BeFalse

        $result | Save-VlmCaption -Force
        Get-Content (Join-Path $folder 't.txt') -Raw | Should -Be 'Red PNG'
    }

    It 'reports same-stem images instead of letting one caption overwrite the other' {
        New-TestImage $server (Join-Path $folder 'a.jpg') -Format jpeg -Width 30 -Height 30 | Out-Null
        New-TestImage $server (Join-Path $folder 'a.png') -Width 40 -Height 40 | Out-Null
        $results = Get-ChildItem $folder -File | Sort-Object Name | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test

        $results | Save-VlmCaption -ErrorVariable errors -ErrorAction SilentlyContinue -WarningAction SilentlyContinue

        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'CaptionPathConflict,*'
        $errors[0].TargetObject | Should -Be (Join-Path $folder 'a.png')
        Get-Content (Join-Path $folder 'a.txt') -Raw | Should -BeLike '*30x30 pixels*'
    }

    It "removes the temporary caption files a killed write left long ago, and nothing that may be another run's or a user's" {
        $image = New-TestImage $server (Join-Path $folder 'k.png')
        Set-Content (Join-Path $folder '.vlmcaption-0a1b2c3d4e5f6a7b.tmp') 'half a capt'
        Set-Content (Join-Path $folder '.vlmcaption-00000000000000ff.tmp') 'another run is writing this'
        Set-Content (Join-Path $folder '.notes.txt.0badf00d.tmp') 'a user file that looks like an old temporary name'
        Set-Content (Join-Path $folder '.keep.tmp') 'not ours'
        foreach ($name in '.vlmcaption-0a1b2c3d4e5f6a7b.tmp', '.notes.txt.0badf00d.tmp', '.keep.tmp') {
            (Get-Item -Force (Join-Path $folder $name)).LastWriteTimeUtc = [datetime]::UtcNow.AddHours(-1)
        }
        Get-Caption $image.FullName | Save-VlmCaption
        (Get-ChildItem $folder -Force -Filter '*.tmp').Name | Sort-Object | Should -Be @('.keep.tmp', '.notes.txt.0badf00d.tmp', '.vlmcaption-00000000000000ff.tmp')
    }

    It 'captions an image whose name is 250 bytes long' {
        $name = ('n' * 246) + '.png'
        $image = New-TestImage $server (Join-Path $folder $name)
        Get-Caption $image.FullName | Save-VlmCaption
        Get-Content -LiteralPath (Join-Path $folder (('n' * 246) + '.txt')) -Raw | Should -BeLike 'Red * image*'
    }

    It 'honours -Extension' {
        $image = New-TestImage $server (Join-Path $folder 'e.png')
        Get-Caption $image.FullName | Save-VlmCaption -Extension .caption
        Test-Path (Join-Path $folder 'e.caption') | Should -BeTrue
    }
}
