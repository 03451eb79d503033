# Existing captions as objects: read back, edited, saved again.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Import-VlmCaption' {
    BeforeEach {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        $sub = New-Item -ItemType Directory -Path (Join-Path $folder 'sub')
        New-TestImage $server (Join-Path $folder 'a.png') | Out-Null
        New-TestImage $server (Join-Path $folder 'b[1].png') | Out-Null
        New-TestImage $server (Join-Path $sub 'c.jpg') -Format jpeg | Out-Null
        New-TestImage $server (Join-Path $folder 'none.png') | Out-Null
        Set-Content -LiteralPath (Join-Path $folder 'a.txt') 'The image shows a red square.'
        Set-Content -LiteralPath (Join-Path $folder 'b[1].txt') 'The image shows a bracket.' -NoNewline
        Set-Content -LiteralPath (Join-Path $sub 'c.txt') 'ohwx, The image shows a deep one.' -NoNewline
    }

    It 'reads the captions of a folder and its subfolders as results that carry the image and the file' {
        $read = @(Import-VlmCaption $folder -Recurse)
        $read.Image | Should -Be @('a.png', 'b[1].png', 'c.jpg')
        $read[0] | Should -BeOfType ([VlmCaption.CaptionResult])
        $read[0].Caption | Should -Be 'The image shows a red square.' -Because 'the line break an editor added is dropped'
        $read[0].CaptionFile | Should -Be (Join-Path $folder 'a.txt')
        $read[1].PSPath | Should -BeLike '*FileSystem::*b`[1`].png'
        @(Import-VlmCaption $folder).Count | Should -Be 2
    }

    It 'is the whole find-and-replace story with Save-VlmCaption' {
        Import-VlmCaption $folder -Recurse | ForEach-Object { $_.Caption = $_.Caption -replace 'The image shows ', ''; $_ } | Save-VlmCaption -Force
        Get-Content -LiteralPath (Join-Path $folder 'b[1].txt') -Raw | Should -Be 'a bracket.'
        Get-Content -LiteralPath (Join-Path $sub 'c.txt') -Raw | Should -Be 'ohwx, a deep one.'
    }

    It 'takes Get-ChildItem output, and round-trips through a CSV' {
        $csv = Join-Path $TestDrive 'review.csv'
        Get-ChildItem $folder -File | Import-VlmCaption | Export-Csv -LiteralPath $csv
        $rows = @(Import-Csv -LiteralPath $csv)
        $rows.Count | Should -Be 2
        $rows | ForEach-Object { $_.Caption = "checked: $($_.Caption)"; $_ } | Save-VlmCaption -Force
        Get-Content -LiteralPath (Join-Path $folder 'a.txt') -Raw | Should -Be 'checked: The image shows a red square.'
    }

    It 'reads jsonl lines with their models, and any extension' {
        Reset-TestServer $server
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`noutput_format: jsonl"
        Get-VlmCaption -LiteralPath (Join-Path $folder 'none.png') -Config $config | Save-VlmCaption
        $lines = @(Import-VlmCaption -LiteralPath (Join-Path $folder 'none.png') -Format jsonl)
        $lines.Count | Should -Be 1
        $lines[0].Model | Should -Be 'test'
        $lines[0].Caption | Should -BeLike 'Red * image*'
        Set-Content -LiteralPath (Join-Path $folder 'a.caption') 'other extension'
        (Import-VlmCaption -LiteralPath (Join-Path $folder 'a.png') -Extension caption).Caption | Should -Be 'other extension'
    }

    It 'gives the model the current caption as context with the existing_caption hint, exactly as documented' {
        Reset-TestServer $server
        $new = Get-VlmCaption -LiteralPath (Join-Path $folder 'a.png') -BaseUrl $server.BaseUrl -Model test -HintSource existing_caption, full_path
        $new | Should -Not -BeNullOrEmpty
        $text = (Get-TestServerRequest $server)[0].body.messages[-1].content[0].text
        $text | Should -BeLike "Existing caption:`nThe image shows a red square.`n`nImage file information:*"
        Reset-TestServer $server
        Get-VlmCaption -LiteralPath (Join-Path $folder 'none.png') -BaseUrl $server.BaseUrl -Model test -HintSource existing_caption | Out-Null
        (Get-TestServerRequest $server)[0].body.messages[-1].content[0].text | Should -Be 'Describe the image in detail.' -Because 'an image without a caption gets no hint'
    }

    It 'refuses a caption file that is not a regular file or is too large, per image' -Skip:$IsWindows {
        & mkfifo (Join-Path $folder 'none.txt')
        $read = @(Import-VlmCaption $folder -ErrorVariable errors -ErrorAction SilentlyContinue)
        $read.Count | Should -Be 2
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'CaptionUnreadable,*'
    }
}
