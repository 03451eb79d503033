# The requests Get-VlmCaption sends, as the reference server received them.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $common = @{ BaseUrl = $server.BaseUrl; Model = 'test' }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Conversation layout' {
    BeforeEach {
        Reset-TestServer $server
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
    }

    It 'sends one user message with the prompt then the image, and max_tokens, for one prompt' {
        $image = New-TestImage $server (Join-Path $folder 'one.png') -Width 50 -Height 40
        $result = Get-VlmCaption -LiteralPath $image.FullName @common -Prompt 'Describe it.' -MaxTokens 123

        $request = @(Get-TestServerRequest $server)
        $request.Count | Should -Be 1
        $body = $request[0].body
        $body.model | Should -Be 'test'
        $body.max_tokens | Should -Be 123
        $body.PSObject.Properties.Name | Should -Not -Contain 'temperature'
        $body.PSObject.Properties.Name | Should -Not -Contain 'max_completion_tokens'
        $body.messages.Count | Should -Be 1
        $body.messages[0].role | Should -Be 'user'
        $body.messages[0].content[0].type | Should -Be 'text'
        $body.messages[0].content[0].text | Should -BeExactly 'Describe it.'
        $body.messages[0].content[1].type | Should -Be 'image_url'
        $body.messages[0].content[1].image_url.url | Should -BeLike 'data:image/png;base64,*'
        $result.Caption | Should -BeExactly $result.Turns[0].Response
    }

    It 'sends system prompt after the global metadata, hints before prompt 1, and the whole history each turn' {
        $sub = New-Item -ItemType Directory -Path (Join-Path $folder 'sub')
        $image = New-TestImage $server (Join-Path $sub 'cat.png') -Width 60 -Height 30
        Set-Content -LiteralPath (Join-Path $sub 'cat.json') -Value '{"title": "Cafe cat", "tags": ["a", "b"]}'
        Set-Content -LiteralPath (Join-Path $sub 'metadata.json') -Value '{"scene_type": "outdoor", "characters": ["Cloud", "Tifa"], "mood": "cheerful"}'
        $codex = Join-Path $folder 'codex.txt'
        [IO.File]::WriteAllText($codex, "Tifa: martial artist. Zoë: pilot.`n", [Text.UTF8Encoding]::new($true))
        $prompts = 'Describe the image in detail.', 'Identify characters.', 'Framing?', 'Summarise.'

        $result = Get-VlmCaption -LiteralPath $image.FullName @common -SystemPrompt 'Be factual.' -GlobalMetadataPath $codex `
            -HintSource full_path, json, metadata -Prompt $prompts -MaxTokens 500

        $expectedFirst = "Image file information:`n- Full path: $($image.FullName)`n`n" +
            "Json Metadata:`n{`n  `"title`": `"Cafe cat`",`n  `"tags`": [`n    `"a`",`n    `"b`"`n  ]`n}`n`n" +
            "Directory metadata:`n- scene_type: outdoor`n- characters: [`"Cloud`", `"Tifa`"]`n- mood: cheerful`n`n`n" +
            'Describe the image in detail.'
        $requests = @(Get-TestServerRequest $server)
        $requests.Count | Should -Be 4
        for ($turn = 0; $turn -lt 4; $turn++) {
            $body = $requests[$turn].body
            $body.max_tokens | Should -Be 500
            $requests[$turn].image.width | Should -Be 60
            $messages = $body.messages
            $messages.Count | Should -Be (2 + 2 * $turn)
            $messages[0].role | Should -Be 'system'
            $messages[0].content | Should -BeExactly "Tifa: martial artist. Zoë: pilot.`n`nBe factual."
            $messages[1].content[0].text | Should -BeExactly $expectedFirst
            for ($i = 1; $i -le $turn; $i++) {
                $messages[2 * $i].role | Should -Be 'assistant'
                $messages[2 * $i].content | Should -BeExactly $result.Turns[$i - 1].Response
                $messages[2 * $i + 1].role | Should -Be 'user'
                $messages[2 * $i + 1].content | Should -BeExactly $prompts[$i]
            }
        }
        $result.Caption | Should -BeLike '*Turn 4.*'
        $result.Turns.Count | Should -Be 4
    }

    It 'sends max_completion_tokens instead when asked, and temperature only when given' {
        $image = New-TestImage $server (Join-Path $folder 't.png')
        Get-VlmCaption -LiteralPath $image.FullName @common -UseMaxCompletionTokens -MaxTokens 50 -Temperature 0.2 | Out-Null
        $body = (Get-TestServerRequest $server)[0].body
        $body.max_completion_tokens | Should -Be 50
        $body.PSObject.Properties.Name | Should -Not -Contain 'max_tokens'
        $body.temperature | Should -Be 0.2
    }

    It 'strips think blocks from the history and the caption' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'think' }) }
        $image = New-TestImage $server (Join-Path $folder 'think.png')
        $result = Get-VlmCaption -LiteralPath $image.FullName @common -Prompt 'a', 'b'
        $result.Caption | Should -BeLike 'Red * image*'
        (Get-TestServerRequest $server)[1].body.messages[1].content | Should -Not -Match 'think'
    }

    It 'refuses an unknown hint source before sending anything' {
        $image = New-TestImage $server (Join-Path $folder 'h.png')
        { Get-VlmCaption -LiteralPath $image.FullName @common -HintSource nope -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentTransformationError,VlmCaption.PowerShell.Commands.GetVlmCaptionCommand' -ExpectedMessage "*'nope' is not a hint source*"
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }

    It 'warns about a broken sidecar and captions the image without it' {
        $image = New-TestImage $server (Join-Path $folder 'b.png')
        Set-Content -LiteralPath (Join-Path $folder 'b.json') -Value '{"broken": '
        $result = Get-VlmCaption -LiteralPath $image.FullName @common -HintSource json -WarningVariable warnings -WarningAction SilentlyContinue
        $result | Should -Not -BeNullOrEmpty
        $warnings[0] | Should -BeLike "*'json'*b.png*not valid JSON*"
        (Get-TestServerRequest $server)[0].body.messages[0].content[0].text | Should -BeExactly 'Describe the image in detail.'
    }
}

Describe 'Model choice' {
    BeforeEach {
        $image = New-TestImage $server (Join-Path $TestDrive 'm.png')
    }

    It 'uses the only model the server lists when -Model is omitted' {
        Reset-TestServer $server -Options @{ models = @('only-one') }
        (Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl).Model | Should -Be 'only-one'
    }

    It 'stops with the list when the server lists several' {
        Reset-TestServer $server -Options @{ models = @('m1', 'm2') }
        { Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl -ErrorAction Stop } |
            Should -Throw -ErrorId 'ModelNotSpecified,VlmCaption.PowerShell.Commands.GetVlmCaptionCommand' -ExpectedMessage '*lists m1, m2*'
    }

    AfterAll {
        Reset-TestServer $server
    }
}

Describe 'Image formats' {
    BeforeAll {
        Reset-TestServer $server
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'formats')
        $cases = @(
            @{ Name = 'alpha.png'; Spec = @{ Alpha = $true; Color = 'green' }; Type = 'image/png'; Size = '64x48'; Colour = 'green' }
            @{ Name = 'cmyk.jpg'; Spec = @{ Format = 'jpeg'; Cmyk = $true; Color = 'blue' }; Type = 'image/jpeg'; Size = '64x48'; Colour = 'blue' }
            @{ Name = 'rotated.jpg'; Spec = @{ Format = 'jpeg'; Orientation = 6; Width = 80; Height = 20 }; Type = 'image/jpeg'; Size = '20x80'; Colour = 'red' }
            @{ Name = 'photo.webp'; Spec = @{ Format = 'webp'; Color = 'orange' }; Type = 'image/jpeg'; Size = '64x48'; Colour = 'orange' }
            @{ Name = 'big.png'; Spec = @{ Width = 3000; Height = 1000 }; Type = 'image/jpeg'; Size = '1536x512'; Colour = 'red' }
        )
        foreach ($case in $cases) {
            $spec = $case.Spec
            New-TestImage $server (Join-Path $folder $case.Name) @spec | Out-Null
        }
        $results = @(Get-ChildItem $folder -File | Get-VlmCaption @common -ThrottleLimit 3)
        $seen = @{}
        foreach ($request in Get-TestServerRequest $server) { $seen[$request.body.messages[0].content[1].image_url.url.Length] = $request }
    }

    It '<Name> arrives decodable as <Type>, <Size>, <Colour>' -ForEach @(
        @{ Name = 'alpha.png'; Type = 'image/png'; Size = '64x48'; Colour = 'green' }
        @{ Name = 'cmyk.jpg'; Type = 'image/jpeg'; Size = '64x48'; Colour = 'blue' }
        @{ Name = 'rotated.jpg'; Type = 'image/jpeg'; Size = '20x80'; Colour = 'red' }
        @{ Name = 'photo.webp'; Type = 'image/jpeg'; Size = '64x48'; Colour = 'orange' }
        @{ Name = 'big.png'; Type = 'image/jpeg'; Size = '1536x512'; Colour = 'red' }
    ) {
        $result = $results | Where-Object { (Split-Path $_.Path -Leaf) -eq $Name }
        $result.SentMediaType | Should -Be $Type
        "$($result.SentWidth)x$($result.SentHeight)" | Should -Be $Size
        $result.Caption | Should -BeLike "$Colour * image, $Size pixels*"
        $result.Caption | Should -BeLike "*$(if ($Type -eq 'image/png') { 'PNG' } else { 'JPEG' }) image*"
    }

    It 'declares the true media type of every image it sends' {
        foreach ($request in Get-TestServerRequest $server) {
            $request.image.declaredType | Should -Be $request.image.mimeType
        }
    }
}

Describe 'Concurrency, retries and failures' {
    BeforeEach {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
    }

    It 'keeps 8 images in flight and returns all 40 (200 ms a request, 2 prompts)' {
        Reset-TestServer $server -Options @{ models = @('test'); latencyMs = 200 }
        1..40 | ForEach-Object { New-TestImage $server (Join-Path $folder "img$_.png") -Width (10 + $_) -Height 10 | Out-Null }

        $clock = [Diagnostics.Stopwatch]::StartNew()
        $results = @(Get-ChildItem $folder -File | Get-VlmCaption @common -Prompt 'a', 'b' -ThrottleLimit 8)
        $clock.Stop()

        $results.Count | Should -Be 40
        ($results.Path | Sort-Object -Unique).Count | Should -Be 40
        foreach ($result in $results) {
            $width = 10 + [int]([IO.Path]::GetFileNameWithoutExtension($result.Path) -replace 'img')
            $result.Caption | Should -BeLike "*${width}x10 pixels. Turn 2.*"
        }
        (Get-TestServerStat $server).maxInFlight | Should -Be 8
        Write-Host "    40 images x 2 turns x 200 ms at -ThrottleLimit 8: $([int]$clock.Elapsed.TotalMilliseconds) ms (serial would be 16000 ms)"
    }

    It 'retries 429 (after Retry-After) and 500 and succeeds' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(
                @{ kind = 'status'; status = 429; retryAfter = 1; requests = @(1) }
                @{ kind = 'status'; status = 500; requests = @(2) }
            ) }
        $image = New-TestImage $server (Join-Path $folder 'r.png')
        $result = Get-VlmCaption -LiteralPath $image.FullName @common -Verbose 4>&1 | Tee-Object -Variable stream | Where-Object { $_ -is [VlmCaption.CaptionResult] }
        $result.Caption | Should -BeLike 'Red **'
        $requests = @(Get-TestServerRequest $server)
        $requests.status | Should -Be @(429, 500, 200)
        ([datetimeoffset]$requests[1].time - [datetimeoffset]$requests[0].time).TotalMilliseconds | Should -BeGreaterOrEqual 950
        ($stream | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message -join "`n" | Should -Match 'HTTP 429.*Retry 1 of 3'
    }

    It 'skips images whose caption file exists and is not empty' {
        Reset-TestServer $server
        $done = New-TestImage $server (Join-Path $folder 'done.png')
        $empty = New-TestImage $server (Join-Path $folder 'empty.png')
        $new = New-TestImage $server (Join-Path $folder 'new.png')
        Set-Content -LiteralPath (Join-Path $folder 'done.txt') -Value 'a caption'
        New-Item -ItemType File -Path (Join-Path $folder 'empty.txt') | Out-Null

        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption @common -SkipExisting)

        ($results.Path | ForEach-Object { Split-Path $_ -Leaf } | Sort-Object) | Should -Be @('empty.png', 'new.png')
        @(Get-TestServerRequest $server).Count | Should -Be 2
    }

    It 'stops promptly on Ctrl+C and writes nothing' {
        Reset-TestServer $server -Options @{ models = @('test'); latencyMs = 30000 }
        1..4 | ForEach-Object { New-TestImage $server (Join-Path $folder "s$_.png") | Out-Null }
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($Module, $Folder, $BaseUrl)
                Import-Module $Module
                Get-ChildItem $Folder -File | Get-VlmCaption -BaseUrl $BaseUrl -Model test -ThrottleLimit 4 | Save-VlmCaption
            }).AddArgument($env:VLMCAPTION_MODULE).AddArgument($folder.FullName).AddArgument($server.BaseUrl)
        $handle = $ps.BeginInvoke()
        $deadline = [datetime]::UtcNow.AddSeconds(20)
        while ((Get-TestServerStat $server).inFlight -lt 4 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        (Get-TestServerStat $server).inFlight | Should -Be 4

        $clock = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $clock.Stop()

        $clock.Elapsed.TotalSeconds | Should -BeLessThan 10 -Because 'the requests in flight must be cancelled, not awaited for 30 s'
        $handle.IsCompleted | Should -BeTrue
        Get-ChildItem $folder -Filter *.txt | Should -BeNullOrEmpty
        $ps.Dispose()
        Write-Host "    Stopped 4 requests in flight in $([int]$clock.Elapsed.TotalMilliseconds) ms"
    }
}
