# Post-processing: in runs from caption.yaml, shown by -WhatIf, and in the pipeline with Edit-VlmCaption.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Post-processing' {
    BeforeEach {
        Reset-TestServer $server
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        New-TestImage $server (Join-Path $images 'p.png') -Width 30 -Height 20 | Out-Null
        $config = Join-Path $folder 'caption.yaml'
        # The reference server answers "Red JPEG image, 30x20 pixels. Turn 1. Text <digest>."
        Set-Content $config @"
base_url: $($server.BaseUrl)
model: test
prompts: [a]
base_directory: images
prefix: 'ohwx, '
replacements:
  - pattern: '^Red (JPEG|PNG) image'
    replacement: 'A red square'
strip_phrases: [' Turn 1.']
max_words: 5
tidy: true
"@
    }

    It 'applies the rules of caption.yaml after the answer and before the prefix' {
        $result = Invoke-VlmCaptionRun $config -PassThru
        Get-Content -LiteralPath (Join-Path $images 'p.txt') -Raw | Should -Be 'ohwx, A red square, 30x20 pixels.'
        $result.Caption | Should -Be 'A red square, 30x20 pixels.' -Because 'results carry the caption as post-processed, without prefix and suffix'
        (Get-TestServerRequest $server).Count | Should -Be 1
    }

    It 'shows the post-processing in the -WhatIf line' {
        $output = Invoke-FreshPwshScript { param($Module, $Config) Import-Module $Module; Invoke-VlmCaptionRun $Config -WhatIf } -ArgumentList $env:VLMCAPTION_MODULE, $config
        ($output -join "`n") | Should -BeLike '*What if:*Caption, then post-process (1 replacement, 1 phrase stripped, at most 5 words, tidied)*p.png*'
    }

    It 'applies the same rules to Get-VlmCaption -Config results, which Save-VlmCaption then prefixes' {
        Get-ChildItem $images -Filter *.png | Get-VlmCaption -Config $config | Save-VlmCaption -Force
        Get-Content -LiteralPath (Join-Path $images 'p.txt') -Raw | Should -Be 'ohwx, A red square, 30x20 pixels.'
    }

    It 'edits captions in the pipeline with Edit-VlmCaption, from parameters and from a caption.yaml' {
        $item = [pscustomobject]@{ Path = (Join-Path $images 'p.png'); Caption = 'The image shows  a cat ,, long_hair' }
        ($item | Edit-VlmCaption -Replace ([ordered]@{ '^The image shows ' = ''; 'cat' = 'kitten' }) -Tidy).Caption | Should -Be 'a kitten, long_hair'
        $tags = [pscustomobject]@{ Caption = 'cat, long_hair, cat, watermark' } | Edit-VlmCaption -TagSeparator ', ' -TagUnderscores -DropTag watermark
        $tags.Caption | Should -Be 'cat, long hair'
        ([pscustomobject]@{ Caption = 'Red JPEG image, 30x20 pixels. Turn 1. More words here.' } | Edit-VlmCaption -Config $config).Caption | Should -Be 'A red square, 30x20 pixels.'
    }

    It 'keeps the old caption with existing: append or prepend, and with Save-VlmCaption -Existing' {
        Set-Content -LiteralPath (Join-Path $images 'p.txt') 'old caption' -NoNewline
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nbase_directory: images`nexisting: append"
        (Invoke-VlmCaptionRun $config).Succeeded | Should -Be 1 -Because 'append captions images that have a caption'
        Get-Content -LiteralPath (Join-Path $images 'p.txt') -Raw | Should -BeLike "old caption`nRed * image, 30x20 pixels.*"
        Set-Content -LiteralPath (Join-Path $images 'p.txt') 'old caption' -NoNewline
        Invoke-VlmCaptionRun $config -Existing Prepend | Out-Null
        Get-Content -LiteralPath (Join-Path $images 'p.txt') -Raw | Should -BeLike "Red * image*`nold caption"
        (Invoke-VlmCaptionRun $config -Existing Skip).Skipped | Should -Be 1
        [pscustomobject]@{ Path = (Join-Path $images 'p.png'); Caption = 'third' } | Save-VlmCaption -Existing Append
        (Get-Content -LiteralPath (Join-Path $images 'p.txt')) | Select-Object -Last 1 | Should -Be 'third'
        { [pscustomobject]@{ Path = (Join-Path $images 'p.png'); Caption = 'x' } | Save-VlmCaption -Existing Skip -ErrorAction Stop } | Should -Throw -ErrorId 'CaptionExists,*'
    }

    It 'refuses a pattern that is not a regular expression before any caption' {
        { [pscustomobject]@{ Caption = 'x' } | Edit-VlmCaption -Replace @{ '(unclosed' = '' } -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPattern,*'
    }
}
