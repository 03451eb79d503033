# The PowerShell surface a new user meets in the first hour: views, output objects, binding back,
# defaults, paths, progress. Each test is a rough edge that was seen and fixed.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $deadUrl = 'http://127.0.0.1:9/v1'

    function New-Folder { New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid())) }

    # Text a format view leaks when a script-block column has no label, or a script is printed instead of run.
    $scriptText = '\$_|\{ |\$\(|-join|ToString\('
}

AfterAll {
    Stop-TestServer $server
}


Describe 'One meaning of a parameter across cmdlets' {
    It '-TimeoutSec takes the same range in every cmdlet that has it' {
        $commands = @(Get-Command -Module VlmCaption | Where-Object { $_.Parameters.ContainsKey('TimeoutSec') })
        $commands.Count | Should -BeGreaterOrEqual 3
        foreach ($command in $commands) {
            $range = $command.Parameters['TimeoutSec'].Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateRangeAttribute] }
            "$($command.Name) $($range.MinRange)-$($range.MaxRange)" | Should -Be "$($command.Name) 1-86400"
        }
    }
}

Describe 'Types and views' {
    BeforeAll {
        Reset-TestServer $server
        $folder = New-Folder
        New-TestImage $server (Join-Path $folder 'view.png') | Out-Null
        $result = Get-VlmCaption -LiteralPath (Join-Path $folder 'view.png') -BaseUrl $server.BaseUrl -Model test
        $longDiagnosis = 'Shown a red square, the model answered ''blue'': it ignored the image. Load a vision model (e.g. Qwen2.5-VL, Gemma 3, Llama 4), or its vision projector (mmproj for llama.cpp).'
        $endpoint = [VlmCaption.EndpointTestResult]@{ BaseUrl = 'http://127.0.0.1:1234/v1'; Model = 'qwen2.5-vl-7b-instruct'; Reachable = $true; Diagnosis = @($longDiagnosis, 'A second problem.') }
        $samples = @(
            $result
            [VlmCaption.RunSummary]@{ Total = 3; Succeeded = 2; Failed = 1; Seconds = 12.5; Failures = @([VlmCaption.CaptionFailure]@{ Path = '/x/a.png'; ErrorId = 'RequestFailed'; Message = 'm' }) }
            [VlmCaption.VlmModel]@{ Id = 'test'; OwnedBy = 'me'; Created = [DateTimeOffset]::FromUnixTimeSeconds(1700000000); BaseUrl = 'http://127.0.0.1:1234/v1' }
            $endpoint
            (Get-VlmHintSource)[0]
            (Import-VlmCaptionConfig -LiteralPath (Join-Path $PSScriptRoot '../data/original-format.caption.yaml'))
        )
    }

    It 'names the types right after Import-Module, before any cmdlet ran' {
        $output = Invoke-FreshPwshScript { param($Module) Import-Module $Module; [VlmCaption.CaptionResult]::new().GetType().FullName; [VlmCaption.CaptionStatus]::Truncated } -ArgumentList $env:VLMCAPTION_MODULE
        $output | Should -Be @('VlmCaption.CaptionResult', 'Truncated')
    }

    It 'renders <_> without script text at widths 80 and 200' -ForEach @('CaptionResult', 'RunSummary', 'VlmModel', 'EndpointTestResult', 'HintSource', 'CaptionConfig') {
        $name = $_
        $sample = $samples | Where-Object { $_.GetType().Name -eq $name }
        $sample | Should -Not -BeNullOrEmpty
        foreach ($width in 80, 200) {
            $text = $sample | Out-String -Width $width
            $text | Should -Not -Match $scriptText -Because "the $name view at width $width must show values, not script"
            $text.Trim() | Should -Not -BeNullOrEmpty
        }
    }

    It 'shows the whole diagnosis of an endpoint test at width 80' {
        # A list view wraps long values onto the next lines: every character is there, line breaks aside.
        $text = ($endpoint | Out-String -Width 80) -replace '\s+', ''
        $text.Contains(($longDiagnosis -replace '\s+', '')) | Should -BeTrue
        $text.Contains('Asecondproblem.') | Should -BeTrue
    }

    It 'makes every column of the result table a property, so Sort-Object and Select-Object take them' {
        $header = (($result | Format-Table | Out-String -Width 200) -split "`n" | Where-Object { $_.Trim() } | Select-Object -First 1).Trim() -split '\s+'
        $header | Should -Be @('Image', 'Status', 'Seconds', 'Tokens', 'Caption')
        foreach ($column in $header) { $result.PSObject.Properties[$column] | Should -Not -BeNullOrEmpty -Because "$column is shown" }
        ($result | Select-Object Image).Image | Should -Be 'view.png'
        $result.Seconds | Should -BeGreaterThan 0
        $result.Tokens | Should -Be $result.CompletionTokens
    }
}

Describe 'Results with the stock cmdlets' {
    BeforeAll {
        Reset-TestServer $server
        $folder = New-Folder
        New-TestImage $server (Join-Path $folder 'one.png') -Width 30 | Out-Null
        New-TestImage $server (Join-Path $folder 'two.png') -Width 31 | Out-Null
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -Prompt 'Describe.', 'Summarise.')
    }

    It 'writes the status by name, the time in seconds and the turns as a list in JSON' {
        $json = $results[0] | ConvertTo-Json -Depth 3
        $json | Should -Match '"Status": "Succeeded"'
        $json | Should -Not -Match '"Duration"|"Ticks"|"TotalMilliseconds"'
        $back = $json | ConvertFrom-Json
        $back.Seconds | Should -BeOfType ([double])
        $back.Turns.Count | Should -Be 2
        $back.Turns[1].FinishReason | Should -Be 'stop'
    }

    It 'summarises the turns in one CSV cell and round-trips through Export-Csv and Import-Csv into Save-VlmCaption' {
        $csv = Join-Path $TestDrive 'results.csv'
        $results | Export-Csv -LiteralPath $csv
        Get-Content -LiteralPath $csv -Raw | Should -Not -Match 'System\.Collections'
        $rows = @(Import-Csv -LiteralPath $csv)
        $rows[0].Turns | Should -BeLike '2 turns: stop, stop*tokens'
        $rows[0].Status | Should -Be 'Succeeded'
        $rows | ForEach-Object { $_.Caption = "edited: $($_.Caption)"; $_ } | Save-VlmCaption -Force
        Get-Content -LiteralPath (Join-Path $folder 'one.txt') -Raw | Should -BeLike 'edited: Red * image, 30x*'
        Get-Content -LiteralPath (Join-Path $folder 'two.txt') -Raw | Should -BeLike 'edited: Red * image, 31x*'
    }

    It 'round-trips through Export-Clixml and Import-Clixml into Save-VlmCaption' {
        $xml = Join-Path $TestDrive 'results.xml'
        $results | Export-Clixml -LiteralPath $xml
        Import-Clixml -LiteralPath $xml | Save-VlmCaption -Prefix 'clixml, ' -Force
        Get-Content -LiteralPath (Join-Path $folder 'one.txt') -Raw | Should -BeLike 'clixml, Red * image, 30x*'
    }

    It 'saves any object with a path and a caption' {
        [pscustomobject]@{ Path = (Join-Path $folder 'one.png'); Caption = 'by hand' } | Save-VlmCaption -Force
        Get-Content -LiteralPath (Join-Path $folder 'one.txt') -Raw | Should -Be 'by hand'
    }

    It 'refuses a truncated status from a CSV row too' {
        [pscustomobject]@{ PSPath = (Join-Path $folder 'two.png'); Caption = 'cut'; Status = 'Truncated' } |
            Save-VlmCaption -Force:$false -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'CaptionTruncated,*'
    }
}

Describe 'Binding back to -LiteralPath' {
    It 'captions again a result whose name has wildcard characters, piped back in' {
        Reset-TestServer $server
        $folder = New-Folder
        New-TestImage $server (Join-Path $folder 'sh[o]t.png') -Width 22 | Out-Null
        $first = Get-ChildItem -LiteralPath $folder | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test
        $first.Path | Should -Be (Join-Path $folder 'sh[o]t.png')
        $again = @($first | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -ErrorVariable errors)
        $errors | Should -BeNullOrEmpty
        $again.Count | Should -Be 1
        $again[0].Caption | Should -BeLike 'Red * image, 22x*'
    }

    It "captions again a run's failures from RunSummary.Failures" {
        $folder = New-Folder
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        New-TestImage $server (Join-Path $images 'ok.png') -Width 40 | Out-Null
        New-TestImage $server (Join-Path $images 'f[1].png') -Width 41 | Out-Null
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'status'; status = 400; imageSize = '41x48' }) }
        Set-Content (Join-Path $folder 'caption.yaml') "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nbase_directory: images"
        $summary = Invoke-VlmCaptionRun (Join-Path $folder 'caption.yaml') -ErrorAction SilentlyContinue
        $summary.Failed | Should -Be 1
        Reset-TestServer $server
        $again = @($summary.Failures | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test)
        $again.Count | Should -Be 1
        $again[0].Image | Should -Be 'f[1].png'
    }
}

Describe 'Invoke-VlmCaptionRun output' {
    BeforeEach {
        Reset-TestServer $server
        $folder = New-Folder
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        1..2 | ForEach-Object { New-TestImage $server (Join-Path $images "r$_.png") -Width (50 + $_) | Out-Null }
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nbase_directory: images"
    }

    It 'emits only results with -PassThru, and the summary into -SummaryVariable' {
        $output = @(Invoke-VlmCaptionRun $config -PassThru -SummaryVariable summary)
        $output.Count | Should -Be 2
        $output | ForEach-Object { $_ | Should -BeOfType ([VlmCaption.CaptionResult]) }
        $summary | Should -BeOfType ([VlmCaption.RunSummary])
        $summary.Succeeded | Should -Be 2
        $csv = Join-Path $TestDrive 'run.csv'
        $output | Export-Csv -LiteralPath $csv
        @(Import-Csv -LiteralPath $csv).Count | Should -Be 2
    }

    It 'runs a caption.yaml piped from Get-Item' {
        $summary = Get-Item -LiteralPath $config | Invoke-VlmCaptionRun
        $summary.Succeeded | Should -Be 2
    }
}

Describe 'A caption.yaml given to the pipeline cmdlets' {
    BeforeEach {
        Reset-TestServer $server
        $folder = New-Folder
        New-TestImage $server (Join-Path $folder 'p1.png') -Width 60 | Out-Null
        New-TestImage $server (Join-Path $folder 'p2.png') -Width 61 | Out-Null
        Set-Content (Join-Path $folder 'p1.caption') 'already done'
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nskip_if_caption_exists: true`ncaption_extension: .caption`nprefix: 'ohwx, '`nsuffix: ' [end]'"
    }

    It 'skips what caption.yaml says is captioned, and saves with its prefix, suffix and extension' {
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -Config $config)
        $results.Image | Should -Be @('p2.png')
        $results | Save-VlmCaption
        Get-Content -LiteralPath (Join-Path $folder 'p2.caption') -Raw | Should -BeLike 'ohwx, Red * image, 61x* `[end`]'
        Get-Content -LiteralPath (Join-Path $folder 'p1.caption') -Raw | Should -Be "already done$([Environment]::NewLine)"
        Test-Path (Join-Path $folder 'p2.txt') | Should -BeFalse
    }

    It 'lets the parameters win over the file' {
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -Config $config -SkipExisting:$false)
        $results.Count | Should -Be 2
        $results | Save-VlmCaption -Prefix 'other, ' -Extension txt -Force
        Get-Content -LiteralPath (Join-Path $folder 'p2.txt') -Raw | Should -BeLike 'other, Red * image, 61x* `[end`]'
    }

    It 'keeps the prefix through a CSV, which carries the path of the caption.yaml' {
        $csv = Join-Path $TestDrive 'with-config.csv'
        Get-ChildItem $folder -Filter *.png | Get-VlmCaption -Config $config | Export-Csv -LiteralPath $csv
        Import-Csv -LiteralPath $csv | Save-VlmCaption -Force
        Get-Content -LiteralPath (Join-Path $folder 'p2.caption') -Raw | Should -BeLike 'ohwx, *'
    }
}

Describe 'Session defaults from the environment' {
    BeforeAll {
        $other = Start-TestServer
        Reset-TestServer $other -Options @{ models = @('env-model') }
    }

    AfterAll {
        Stop-TestServer $other
    }

    BeforeEach {
        Reset-TestServer $server
        $folder = New-Folder
        New-TestImage $server (Join-Path $folder 'e.png') | Out-Null
    }

    AfterEach {
        Remove-Item Env:VLMCAPTION_BASE_URL, Env:VLMCAPTION_MODEL -ErrorAction Ignore
    }

    It 'takes VLMCAPTION_BASE_URL and VLMCAPTION_MODEL when nothing else names them, in every cmdlet' {
        $env:VLMCAPTION_BASE_URL = $other.BaseUrl
        $env:VLMCAPTION_MODEL = 'env-model'
        $result = Get-VlmCaption -LiteralPath (Join-Path $folder 'e.png')
        $result.BaseUrl | Should -Be $other.BaseUrl
        $result.Model | Should -Be 'env-model'
        (Get-VlmModel).Id | Should -Be 'env-model'
        (Test-VlmEndpoint).Model | Should -Be 'env-model'
        Set-Content (Join-Path $folder 'caption.yaml') "prompts: [a]"
        (Import-VlmCaptionConfig (Join-Path $folder 'caption.yaml')).BaseUrl | Should -Be $other.BaseUrl
    }

    It 'ranks parameter over caption.yaml over environment' {
        $env:VLMCAPTION_BASE_URL = $deadUrl
        $env:VLMCAPTION_MODEL = 'nowhere'
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($other.BaseUrl)`nmodel: env-model`nprompts: [a]"
        (Get-VlmCaption -LiteralPath (Join-Path $folder 'e.png') -Config $config).BaseUrl | Should -Be $other.BaseUrl
        $byParameter = Get-VlmCaption -LiteralPath (Join-Path $folder 'e.png') -Config $config -BaseUrl $server.BaseUrl -Model test
        $byParameter.BaseUrl | Should -Be $server.BaseUrl
        $byParameter.Model | Should -Be 'test'
    }

    It 'completes -Model from the endpoint in the environment and in $PSDefaultParameterValues' {
        $env:VLMCAPTION_BASE_URL = $other.BaseUrl
        $line = 'Get-VlmCaption -Model '
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'env-model'
        Remove-Item Env:VLMCAPTION_BASE_URL
        Reset-TestServer $server -Options @{ models = @('from-defaults') }
        $PSDefaultParameterValues['Test-VlmEndpoint:BaseUrl'] = $server.BaseUrl
        try {
            $line = 'Test-VlmEndpoint -Model '
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'from-defaults'
        }
        finally {
            $PSDefaultParameterValues.Remove('Test-VlmEndpoint:BaseUrl')
        }
    }
}

Describe 'Paths' {
    BeforeAll {
        $tree = New-Folder
        $sub = New-Item -ItemType Directory -Path (Join-Path $tree 'sub')
        New-TestImage $server (Join-Path $tree 'top.png') -Width 70 | Out-Null
        New-TestImage $server (Join-Path $tree 'skip-me.png') -Width 71 | Out-Null
        New-TestImage $server (Join-Path $sub 'deep.jpg') -Width 72 -Format jpeg | Out-Null
        Set-Content (Join-Path $tree 'notes.txt') 'not an image'
    }

    BeforeEach { Reset-TestServer $server }

    It 'captions the images of a folder, and of its subfolders with -Recurse, -Include and -Exclude' {
        (Get-VlmCaption $tree -BaseUrl $server.BaseUrl -Model test).Image | Should -Be @('skip-me.png', 'top.png')
        (Get-VlmCaption $tree -Recurse -BaseUrl $server.BaseUrl -Model test).Image | Should -Be @('skip-me.png', 'top.png', 'deep.jpg')
        (Get-VlmCaption -LiteralPath $tree -Recurse -Include *.png -Exclude skip* -BaseUrl $server.BaseUrl -Model test).Image | Should -Be @('top.png')
    }

    It 'passes quietly over the folders Get-ChildItem -Recurse pipes in' {
        $results = @(Get-ChildItem $tree -Recurse | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -ErrorVariable errors -WarningVariable warnings)
        $results.Count | Should -Be 3
        $errors | Should -BeNullOrEmpty
        $warnings | Should -BeNullOrEmpty
    }

    It 'reads caption.yaml by wildcard and by literal path' {
        $folder = New-Folder
        Set-Content -LiteralPath (Join-Path $folder 'a[1].yaml') 'prompts: [one]'
        Set-Content (Join-Path $folder 'b.yaml') 'prompts: [two]'
        (Import-VlmCaptionConfig (Join-Path $folder '*.yaml')).Prompts | Should -Be @('one', 'two')
        (Import-VlmCaptionConfig -LiteralPath (Join-Path $folder 'a[1].yaml')).Prompts | Should -Be @('one')
        (Get-Item -LiteralPath (Join-Path $folder 'a[1].yaml') | Import-VlmCaptionConfig).Prompts | Should -Be @('one')
    }
}

Describe 'Parameter values' {
    BeforeEach {
        Reset-TestServer $server
        $folder = New-Folder
        $image = New-TestImage $server (Join-Path $folder 'x.png') -Width 33
    }

    It 'takes an extension without its dot' {
        Set-Content (Join-Path $folder 'x.txt') 'done'
        @(Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl -Model test -SkipExisting -Extension txt) | Should -BeNullOrEmpty
        Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl -Model test | Save-VlmCaption -Extension caption
        Test-Path (Join-Path $folder 'x.caption') | Should -BeTrue
    }

    It 'refuses an image or sidecar extension before anything is written' -ForEach '.png', 'JPG', '.json' {
        { Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl -Model test | Save-VlmCaption -Extension $_ -Force } |
            Should -Throw -ExpectedMessage '*belongs to images or their sidecars*'
        (Get-Item $image.FullName).Length | Should -BeGreaterThan 60
        @(Get-TestServerRequest $server).Count | Should -Be 0 -Because 'the parameter is checked before the first image'
    }

    It 'says what to type for a base URL without a scheme, in <_>' -ForEach 'Get-VlmCaption', 'Get-VlmModel', 'Test-VlmEndpoint' {
        $message = switch ($_) {
            'Get-VlmCaption' { try { Get-VlmCaption -LiteralPath $image.FullName -BaseUrl 'localhost:1234/v1' -Model test -ErrorAction Stop } catch { $_.Exception.Message } }
            'Get-VlmModel' { try { Get-VlmModel -BaseUrl 'localhost:1234/v1' -ErrorAction Stop } catch { $_.Exception.Message } }
            'Test-VlmEndpoint' { (Test-VlmEndpoint -BaseUrl 'localhost:1234/v1' -Model test).Diagnosis -join ' ' }
        }
        $message | Should -BeLike "*'localhost:1234/v1' has no http:// or https:// in front*http://localhost:1234/v1*"
        $message | Should -Not -BeLike '*UriFormatException*'
    }

    It "gives LM Studio's advice only at LM Studio's address, in whole sentences" {
        $elsewhere = (Test-VlmEndpoint -BaseUrl $deadUrl -Model test).Diagnosis -join ' '
        $elsewhere | Should -BeLike '*Is the server started and listening there?'
        $elsewhere | Should -Not -BeLike '*LM Studio*'
        $elsewhere | Should -Match '[a-z]\. Is the server'
        $lmStudio = (Test-VlmEndpoint -BaseUrl 'http://127.0.0.1:1234/v1' -Model test -TimeoutSec 5).Diagnosis -join ' '
        $lmStudio | Should -BeLike "*LM Studio's server*lms server start*"
    }

    It 'catches a base URL without /v1 once, before any chat request' {
        { Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.Address -Model test -ErrorAction Stop } |
            Should -Throw -ErrorId 'BaseUrlMissingV1,*' -ExpectedMessage "*needs /v1*-BaseUrl $($server.BaseUrl)*"
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }
}

Describe 'Hint sources that fail' {
    It 'leaves out, with one warning per image, a script-block hint that writes an error' {
        Reset-TestServer $server
        $folder = New-Folder
        New-TestImage $server (Join-Path $folder 'h.png') | Out-Null
        $camera = New-VlmHintSource -Name camera -ScriptBlock { "Shot on: $(Get-Content ($_.FullName + '.camera') -Raw)" }
        $result = Get-VlmCaption -LiteralPath (Join-Path $folder 'h.png') -BaseUrl $server.BaseUrl -Model test -HintSource full_path, $camera -WarningVariable warnings -ErrorVariable errors
        $result | Should -Not -BeNullOrEmpty
        $errors | Should -BeNullOrEmpty
        @($warnings).Count | Should -Be 1
        $warnings[0] | Should -BeLike "*Hint source 'camera' failed for*h.png*left out*"
        $text = (Get-TestServerRequest $server)[0].body.messages[-1].content[0].text
        $text | Should -BeLike 'Image file information:*'
        $text | Should -Not -BeLike '*Shot on*'
    }

    It "uses the README's example as written" {
        Reset-TestServer $server
        $folder = New-Folder
        New-TestImage $server (Join-Path $folder 'with.png') -Width 80 | Out-Null
        New-TestImage $server (Join-Path $folder 'without.png') -Width 81 | Out-Null
        Set-Content (Join-Path $folder 'with.png.camera') 'a Nikon F3' -NoNewline
        $readme = Get-Content (Join-Path $PSScriptRoot '../../README.md') -Raw
        $example = [regex]::Match($readme, '(?s)\$camera = New-VlmHintSource.*?\n\}').Value
        $example | Should -Not -BeNullOrEmpty
        Invoke-Expression $example
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -HintSource $camera -WarningVariable warnings -ErrorVariable errors)
        $results.Count | Should -Be 2
        $errors | Should -BeNullOrEmpty
        $warnings | Should -BeNullOrEmpty
        $texts = (Get-TestServerRequest $server).body.messages.content | Where-Object type -eq 'text' | ForEach-Object text
        @($texts | Where-Object { $_ -like 'Shot on: a Nikon F3*' }).Count | Should -Be 1
    }
}

Describe 'Progress' {
    It 'shows N of M and percent, a rate only once it means something, and ends once' {
        Reset-TestServer $server
        $folder = New-Folder
        1..3 | ForEach-Object { New-TestImage $server (Join-Path $folder "g$_.png") -Width (90 + $_) | Out-Null }
        $ps = [powershell]::Create()
        $null = $ps.AddScript({ param($Module, $Folder, $Url) Import-Module $Module; Get-VlmCaption -Path (Join-Path $Folder '*.png') -BaseUrl $Url -Model test }).
            AddArgument($env:VLMCAPTION_MODULE).AddArgument($folder.FullName).AddArgument($server.BaseUrl)
        $output = $ps.Invoke()
        $records = @($ps.Streams.Progress | Where-Object Activity -eq 'Captioning images')
        $ps.Dispose()
        $output.Count | Should -Be 3
        $running = @($records | Where-Object { $_.RecordType -eq 'Processing' -and $_.StatusDescription -notlike '*in flight*' })
        $running.Count | Should -Be 3
        $running[0].StatusDescription | Should -BeLike '1 of 3: 1 captioned*'
        $running[0].StatusDescription | Should -Not -BeLike '*/min*'
        $running.PercentComplete | Should -Be @(33, 66, 100)
        @($records | Where-Object RecordType -eq 'Completed').Count | Should -Be 1
    }

    It 'shows the time so far for piped images, which have no total, and stays within a console line' {
        Reset-TestServer $server
        $folder = New-Folder
        1..3 | ForEach-Object { New-TestImage $server (Join-Path $folder "p$_.png") -Width (70 + $_) | Out-Null }
        $ps = [powershell]::Create()
        $null = $ps.AddScript({ param($Module, $Folder, $Url) Import-Module $Module; Get-ChildItem $Folder -Filter *.png | Get-VlmCaption -BaseUrl $Url -Model test }).
            AddArgument($env:VLMCAPTION_MODULE).AddArgument($folder.FullName).AddArgument($server.BaseUrl)
        $output = $ps.Invoke()
        $records = @($ps.Streams.Progress | Where-Object { $_.Activity -eq 'Captioning images' -and $_.RecordType -eq 'Processing' })
        $ps.Dispose()
        $output.Count | Should -Be 3
        $records[-1].StatusDescription | Should -Match '^3 in \d+s: 3 captioned'
        ($records.StatusDescription | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 100
    }

    It 'ends a run once' {
        Reset-TestServer $server
        $folder = New-Folder
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        New-TestImage $server (Join-Path $images 'once.png') | Out-Null
        Set-Content (Join-Path $folder 'caption.yaml') "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nbase_directory: images"
        $ps = [powershell]::Create()
        $null = $ps.AddScript({ param($Module, $Config) Import-Module $Module; Invoke-VlmCaptionRun $Config }).AddArgument($env:VLMCAPTION_MODULE).AddArgument((Join-Path $folder 'caption.yaml'))
        $null = $ps.Invoke()
        @($ps.Streams.Progress | Where-Object { $_.Activity -eq 'Captioning images' -and $_.RecordType -eq 'Completed' }).Count | Should -Be 1
        $ps.Dispose()
    }
}
