# Config-driven runs: caption.yaml, Invoke-VlmCaptionRun, hint sources.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $originalFormat = Join-Path $PSScriptRoot '../data/original-format.caption.yaml'

    function New-Config([string] $Folder, [string] $Extra = '') {
        $yaml = @"
base_url: $($server.BaseUrl)
model: test
prompts:
  - Describe the image.
  - Summarise it.
base_directory: images
$Extra
"@
        $path = Join-Path $Folder 'caption.yaml'
        Set-Content -LiteralPath $path -Value $yaml
        $path
    }

    function New-ImageTree([string] $Folder) {
        $images = New-Item -ItemType Directory -Path (Join-Path $Folder 'images') -Force
        $sub = New-Item -ItemType Directory -Path (Join-Path $images 'sub') -Force
        New-TestImage $server (Join-Path $images 'a.png') -Width 11 -Height 10 | Out-Null
        New-TestImage $server (Join-Path $images 'b.JPG') -Width 12 -Height 10 -Format jpeg | Out-Null
        New-TestImage $server (Join-Path $sub 'c.webp') -Width 13 -Height 10 -Format webp | Out-Null
        New-TestImage $server (Join-Path $sub 'd.tif') -Width 14 -Height 10 -Format tiff | Out-Null
        Set-Content -LiteralPath (Join-Path $images 'notes.txt.bak') -Value 'not an image'
        $images
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Import-VlmCaptionConfig and New-VlmCaptionConfig' {
    It "loads a caption.yaml in the original tool's format unchanged" {
        $config = Import-VlmCaptionConfig -LiteralPath $originalFormat -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
        $config | Should -BeOfType ([VlmCaption.CaptionConfig])
        $config.Model | Should -Be 'gemma-3-27b-it'
        $config.Prompts.Count | Should -Be 4
        $config.RetryRules[0].Phrases | Should -Contain 'objective description'
        $config.HintSources | Should -Be @('full_path', 'json', 'metadata')
        $config.MaxTokens | Should -Be 12000
    }

    It 'writes a commented template that reads back, and does not overwrite without -Force' {
        $path = Join-Path $TestDrive 'template.yaml'
        $file = New-VlmCaptionConfig -Path $path
        $file.FullName | Should -Be $path
        Get-Content $path -Raw | Should -Match '# caption.yaml'
        (Import-VlmCaptionConfig $path).Prompts.Count | Should -Be 4
        { New-VlmCaptionConfig -Path $path -ErrorAction Stop } | Should -Throw -ErrorId 'CaptionExists,*'
        New-VlmCaptionConfig -Path $path -Force | Should -Not -BeNullOrEmpty
    }

    It 'warns about an unknown key with the nearest known one' {
        $path = Join-Path $TestDrive 'typo.yaml'
        Set-Content $path "prompts: [a]`npromts: [b]"
        Import-VlmCaptionConfig $path -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
        $warnings[0] | Should -BeLike "*line 2*'promts'*Did you mean 'prompts'?*"
    }
}

Describe 'Invoke-VlmCaptionRun' {
    BeforeEach {
        Reset-TestServer $server
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
    }

    It 'captions every image of a nested folder once, and a second run with skip on sends nothing' {
        $images = New-ImageTree $folder
        $config = New-Config $folder "recursive: true`nskip_if_caption_exists: true`nprefix: 'ohwx, '`nconcurrent_batch_size: 3"

        $summary = Invoke-VlmCaptionRun -ConfigPath $config

        $summary | Should -BeOfType ([VlmCaption.RunSummary])
        $summary.Total | Should -Be 4
        $summary.Succeeded | Should -Be 4
        $summary.Failed | Should -Be 0
        $summary.CompletionTokens | Should -BeGreaterThan 0
        $captions = Get-ChildItem $images -Recurse -Filter *.txt
        $captions.Count | Should -Be $summary.Succeeded
        Get-Content (Join-Path $images 'sub/d.txt') -Raw | Should -BeLike 'ohwx, Red * image, 14x10 pixels. Turn 2.*'
        Get-Content (Join-Path $images 'b.txt') -Raw | Should -BeLike '*12x10 pixels. Turn 2.*'
        @(Get-TestServerRequest $server).Count | Should -Be 8

        Reset-TestServer $server
        $again = Invoke-VlmCaptionRun -ConfigPath $config
        $again.Skipped | Should -Be 4
        $again.Succeeded | Should -Be 0
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }

    It 'walks only the top folder unless recursive, and -Recurse overrides it' {
        New-ImageTree $folder | Out-Null
        $config = New-Config $folder
        (Invoke-VlmCaptionRun -ConfigPath $config).Total | Should -Be 2
        (Invoke-VlmCaptionRun -ConfigPath $config -Recurse -Force).Total | Should -Be 4
    }

    It 'lists what it would do with -WhatIf and sends nothing' {
        $images = New-ImageTree $folder
        Set-Content (Join-Path $images 'a.txt') 'done'
        $config = New-Config $folder "recursive: true`nskip_if_caption_exists: true"
        $output = Invoke-VlmCaptionRun -ConfigPath $config -WhatIf 6>&1 | Out-String
        @(Get-TestServerRequest $server).Count | Should -Be 0
        (Get-ChildItem $images -Recurse -Filter *.txt).Count | Should -Be 1
    }

    It 'appends jsonl lines per model and skips per model and prompt chain' {
        Reset-TestServer $server -Options @{ models = @('m1', 'm2') }
        $images = New-ImageTree $folder
        $config = New-Config $folder "output_format: jsonl`nskip_if_caption_exists: true"
        $m1 = (Import-VlmCaptionConfig $config); $m1.Model = 'm1'
        $m2 = (Import-VlmCaptionConfig $config); $m2.Model = 'm2'

        ($m1 | Invoke-VlmCaptionRun).Succeeded | Should -Be 2
        ($m2 | Invoke-VlmCaptionRun).Succeeded | Should -Be 2
        ($m1 | Invoke-VlmCaptionRun).Skipped | Should -Be 2

        $lines = Get-Content (Join-Path $images 'a.jsonl') | ConvertFrom-Json
        $lines.Count | Should -Be 2
        $lines.model | Should -Be @('m1', 'm2')
        $lines[0].prompt | Should -BeExactly "Describe the image.`n`nSummarise it."
        $lines[0].text | Should -BeLike '*11x10 pixels. Turn 2.*'
        @(Get-TestServerRequest $server).Count | Should -Be 8
    }

    It 'sends the hints of hint_sources, a script-file hint included, and the global metadata' {
        $images = New-ImageTree $folder
        Set-Content (Join-Path $images 'metadata.json') '{"mood": "calm", "cast": ["Tifa"]}'
        Set-Content (Join-Path $images 'a.json') '{"title": "Red square"}'
        Set-Content (Join-Path $folder 'codex.txt') 'CODEX' -NoNewline
        Set-Content (Join-Path $folder 'size.ps1') 'param($Image) "Custom hint: $($Image.Name) is $($Image.Length) bytes"'
        $config = New-Config $folder "hint_sources: [full_path, json, metadata, ./size.ps1]`nglobal_metadata_file: codex.txt`nsystem_prompt: Be brief."

        Invoke-VlmCaptionRun -ConfigPath $config | Out-Null

        $first = (Get-TestServerRequest $server | Where-Object { $_.turn -eq 1 -and $_.image.width -eq 11 }).body.messages
        $first[0].content | Should -BeExactly "CODEX`nBe brief."
        $length = (Get-Item (Join-Path $images 'a.png')).Length
        $first[1].content[0].text | Should -BeExactly ("Image file information:`n- Full path: $(Join-Path $images 'a.png')`n`n" +
            "Json Metadata:`n{`n  `"title`": `"Red square`"`n}`n`n" +
            "Directory metadata:`n- mood: calm`n- cast: [`"Tifa`"]`n`n" +
            "Custom hint: a.png is $length bytes`n`n`nDescribe the image.")
    }

    It 'applies retry rules with a single prompt' {
        New-ImageTree $folder | Out-Null
        $config = New-Config $folder @'
retry_rules:
  - rule_name: no-first-turn
    phrases: [turn 1]
    rejection_note: 'Do not say: [phrases].'
'@
        (Get-Content $config) -replace '  - Summarise it.', '' | Set-Content $config
        Invoke-VlmCaptionRun -ConfigPath $config | Out-Null
        Get-Content (Join-Path $folder 'images/a.txt') -Raw | Should -BeLike '*Turn 2.*'
        (Get-TestServerRequest $server | Where-Object turn -eq 2)[0].body.messages[-1].content | Should -BeExactly 'Do not say: turn 1.'
    }

    It 'keeps the most recent chat history without image data' {
        New-ImageTree $folder | Out-Null
        $config = New-Config $folder 'chat_history_dir: history'
        Invoke-VlmCaptionRun -ConfigPath $config | Out-Null
        $files = Get-ChildItem (Join-Path $folder 'history')
        $files.Name | Should -Be @('messages_1.txt', 'messages_2.txt')
        $history = Get-Content (Join-Path $folder 'history/messages_2.txt') -Raw
        ($history | ConvertFrom-Json).Count | Should -Be 4
        $history | Should -Match 'not kept'
        $history | Should -Not -Match '/9j/'
    }

    It 'reports same-stem images instead of overwriting one caption with the other' {
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        New-TestImage $server (Join-Path $images 'x.jpg') -Format jpeg -Width 21 -Height 10 | Out-Null
        New-TestImage $server (Join-Path $images 'x.png') -Width 22 -Height 10 | Out-Null
        $summary = Invoke-VlmCaptionRun -ConfigPath (New-Config $folder) -ErrorVariable errors -ErrorAction SilentlyContinue
        $summary.Succeeded | Should -Be 1
        $summary.Failed | Should -Be 1
        $summary.Failures[0].ErrorId | Should -Be 'CaptionPathConflict'
        $errors[0].TargetObject | Should -Be (Join-Path $images 'x.png')
        Get-Content (Join-Path $images 'x.txt') -Raw | Should -BeLike '*21x10*'
    }

    It 'counts failures in the summary, with the same errors as records, and emits results with -PassThru' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'status'; status = 400; imageSize = '12x10' }) }
        New-ImageTree $folder | Out-Null
        $results = @(Invoke-VlmCaptionRun -ConfigPath (New-Config $folder) -PassThru -SummaryVariable summary -ErrorVariable errors -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 1
        $results[0] | Should -BeOfType ([VlmCaption.CaptionResult])
        $summary.Failed | Should -Be 1
        $summary.Failures[0].Path | Should -Be (Join-Path $folder 'images/b.JPG')
        $errors.Count | Should -Be 1
        (Get-ChildItem (Join-Path $folder 'images') -Filter *.txt).Count | Should -Be $summary.Succeeded
    }

    It 'stops before any request on a bad config: <Case>' -ForEach @(
        @{ Case = 'missing prompts'; Yaml = "model: test"; Id = 'InvalidConfig'; Message = "*'prompts' is missing*" }
        @{ Case = 'wrong type'; Yaml = "prompts: [a]`nmax_tokens: many"; Id = 'InvalidConfig'; Message = '*line 3, column 13*max_tokens*' }
        @{ Case = 'tabs'; Yaml = "prompts:`n`t- a"; Id = 'InvalidConfig'; Message = '*tabs*' }
        @{ Case = 'duplicate key'; Yaml = "prompts: [a]`nmodel: x`nmodel: y"; Id = 'InvalidConfig'; Message = '*line 4*Duplicate key model. Keep one*' }
        @{ Case = 'unreadable metadata file'; Yaml = "prompts: [a]`nglobal_metadata_file: nope.txt"; Id = 'InvalidConfig'; Message = "*line 3*global_metadata_file*" }
        @{ Case = 'missing base_directory'; Yaml = "prompts: [a]`nbase_directory: nowhere"; Id = 'BaseDirectoryNotFound'; Message = "*'base_directory' (caption.yaml line 3)*nowhere*" }
    ) {
        $path = Join-Path $folder 'caption.yaml'
        Set-Content $path "base_url: $($server.BaseUrl)`n$Yaml"
        { Invoke-VlmCaptionRun -ConfigPath $path -ErrorAction Stop } | Should -Throw -ErrorId "$Id,VlmCaption.PowerShell.Commands.InvokeVlmCaptionRunCommand" -ExpectedMessage $Message
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }
}

Describe 'Hint sources' {
    BeforeEach {
        Reset-TestServer $server
        $image = New-TestImage $server (Join-Path $TestDrive 'hinted.png')
    }

    It 'lists the built-in sources' {
        (Get-VlmHintSource).Name | Should -Be @('full_path', 'json', 'metadata', 'exif', 'existing_caption')
        (Get-VlmHintSource meta*).Description | Should -BeLike '*metadata.json*'
    }

    It 'runs a script block hint on the pipeline thread, with session state, and a script-file hint' {
        $script:tag = 'from the session'
        $block = New-VlmHintSource -Name tag -ScriptBlock { "Tag: $script:tag for $($_.Name)" }
        $file = Join-Path $TestDrive 'hint.ps1'
        Set-Content $file 'param($Image) "Size: $($Image.Length)"'
        $fromFile = New-VlmHintSource -Name size -Path $file
        $silent = New-VlmHintSource -Name nothing -ScriptBlock { }

        Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl -Model test -HintSource $block, $silent, $fromFile, full_path | Out-Null

        (Get-TestServerRequest $server)[0].body.messages[0].content[0].text | Should -BeExactly (
            "Tag: from the session for hinted.png`n`nSize: $($image.Length)`n`nImage file information:`n- Full path: $($image.FullName)`n`n`nDescribe the image in detail.")
    }

    It 'warns and goes on when a hint source throws' {
        $bad = New-VlmHintSource -Name broken -ScriptBlock { throw 'no luck' }
        $result = Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl -Model test -HintSource $bad -WarningVariable warnings -WarningAction SilentlyContinue
        $result | Should -Not -BeNullOrEmpty
        $warnings[0] | Should -BeLike "*'broken'*hinted.png*no luck*"
    }

    It 'takes a caption.yaml with -Config, explicit parameters winning' {
        $yaml = Join-Path $TestDrive 'get.yaml'
        Set-Content $yaml "base_url: http://127.0.0.1:9/v1`nmodel: test`nprompts: [From the file.]`nhint_sources: [full_path]"
        $result = Get-VlmCaption -LiteralPath $image.FullName -Config $yaml -BaseUrl $server.BaseUrl
        $result.Turns[0].Prompt | Should -Be 'From the file.'
        (Get-TestServerRequest $server)[0].body.messages[0].content[0].text | Should -BeLike 'Image file information:*From the file.'
    }
}
