# Endpoints and keys: model list, completion, Test-VlmEndpoint's diagnoses, preflight, circuit breaker, several servers.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $closedPort = & {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop(); $port
    }
    $deadUrl = "http://127.0.0.1:$closedPort/v1"
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Get-VlmModel' {
    It 'lists the models as objects' {
        Reset-TestServer $server -Options @{ models = @('vision-a', 'vision-b') }
        $models = Get-VlmModel -BaseUrl $server.BaseUrl
        $models.Id | Should -Be @('vision-a', 'vision-b')
        $models[0] | Should -BeOfType ([VlmCaption.VlmModel])
        $models[0].OwnedBy | Should -Be 'vlmcaption-test'
        $models[0].Created | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds(1700000000))
    }

    It 'reports an unreachable endpoint as an error with a diagnosis' {
        Get-VlmModel -BaseUrl $deadUrl -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'ConnectionFailed,VlmCaption.PowerShell.Commands.GetVlmModelCommand'
        $errors[0].Exception.Message | Should -BeLike "Could not reach $deadUrl*. Is the server started and listening there?"
        $errors[0].Exception | Should -BeOfType ([VlmCaption.CaptionException])
        $errors[0].Exception.ErrorId | Should -Be 'ConnectionFailed'
    }
}

Describe 'Completion of -Model' {
    It 'offers the models of the endpoint on the command line, filtered by what is typed, and asks once per session' {
        Reset-TestServer $server -Options @{ models = @('qwen2.5-vl-7b', 'qwen2.5-vl-72b', 'gemma-3-27b') }
        $line = "Get-VlmCaption -BaseUrl $($server.BaseUrl) -Model qwen"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('qwen2.5-vl-7b', 'qwen2.5-vl-72b')
        $line = "Invoke-VlmCaptionRun -BaseUrl $($server.BaseUrl) -Model "
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'gemma-3-27b'
        @(Get-TestServerRequest $server -IncludeModels | Where-Object path -eq '/v1/models').Count | Should -Be 1
    }

    It 'offers the models of the caption.yaml''s base_url, named or in the current folder' {
        Reset-TestServer $server -Options @{ models = @('qwen2.5-vl-7b', 'qwen2.5-vl-72b', 'gemma-3-27b') }
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'completion')
        Set-Content -LiteralPath (Join-Path $folder 'caption.yaml') -Value "base_url: $($server.BaseUrl)`nprompts: [a]"
        Push-Location $folder
        try {
            foreach ($line in 'Invoke-VlmCaptionRun ./caption.yaml -Model gem', 'Invoke-VlmCaptionRun -Model gem', 'Get-VlmCaption -Config ./caption.yaml -Model gem') {
                (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('gemma-3-27b') -Because $line
            }
        }
        finally {
            Pop-Location
        }
    }

    It 'stops Get-VlmModel at once on Ctrl+C while a server says nothing' {
        # A server that takes the connection and never answers: only -TimeoutSec (30 s) would end the wait.
        $silent = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $silent.Start()
        try {
            $url = "http://127.0.0.1:$($silent.LocalEndpoint.Port)/v1"
            $ps = [powershell]::Create()
            $null = $ps.AddScript({ param($Module, $Url) Import-Module $Module; Get-VlmModel -BaseUrl $Url }).AddArgument($env:VLMCAPTION_MODULE).AddArgument($url)
            $handle = $ps.BeginInvoke()
            $deadline = [datetime]::UtcNow.AddSeconds(20)
            while (-not $silent.Pending() -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            $silent.Pending() | Should -BeTrue -Because 'the request is under way'
            Start-Sleep -Milliseconds 200
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10 -Because 'Ctrl+C cancels the request instead of waiting 30 s'
            $handle.IsCompleted | Should -BeTrue
            $ps.Dispose()
        }
        finally {
            $silent.Stop()
        }
    }

    It 'completes nothing, quietly and quickly, when the endpoint does not answer' {
        $line = "Get-VlmCaption -BaseUrl $deadUrl -Model "
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $Error.Clear()
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Should -BeNullOrEmpty
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        $Error.Count | Should -Be 0
    }
}

Describe 'Test-VlmEndpoint' {
    It 'passes a vision model and reports latency and usage' {
        Reset-TestServer $server
        $result = Test-VlmEndpoint -BaseUrl $server.BaseUrl -Model test
        $result | Should -BeOfType ([VlmCaption.EndpointTestResult])
        $result.Passed | Should -BeTrue
        $result.Reachable | Should -BeTrue
        $result.ModelListed | Should -BeTrue
        $result.SeesImages | Should -BeTrue
        $result.ReportsUsage | Should -BeTrue
        $result.LatencyMs | Should -BeGreaterThan 0
        $result.ThinkTags | Should -BeFalse
        $result.Diagnosis | Should -BeNullOrEmpty
    }

    It 'notices think tags and reasoning_content' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'think' }) }
        (Test-VlmEndpoint -BaseUrl $server.BaseUrl).ThinkTags | Should -BeTrue
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'reasoning' }) }
        (Test-VlmEndpoint -BaseUrl $server.BaseUrl).ReasoningContent | Should -BeTrue
    }

    It 'diagnoses <Case>' -ForEach @(
        @{ Case = 'a model that ignores the image'; Options = @{ models = @('test'); faults = @(@{ kind = 'blind' }) }; Url = 'server'; Model = 'test'; Expected = '*ignored the image*vision model*' }
        @{ Case = 'a model that is not listed'; Options = @{ models = @('a', 'b') }; Url = 'server'; Model = 'c'; Expected = "*does not list the model 'c'*lists a, b*" }
        @{ Case = 'a missing key'; Options = @{ models = @('test'); apiKey = 'sk-needed' }; Url = 'server'; Model = 'test'; Expected = '*HTTP 401*Check the API key*' }
        @{ Case = 'a URL without /v1'; Options = @{ models = @('test') }; Url = 'root'; Model = 'test'; Expected = '*HTTP 404*needs /v1*' }
        @{ Case = 'a server that is not started'; Options = @{ models = @('test') }; Url = 'dead'; Model = 'test'; Expected = "*Is the server started and listening there?" }
    ) {
        Reset-TestServer $server -Options $Options
        $url = switch ($Url) { 'server' { $server.BaseUrl } 'root' { $server.Address } 'dead' { $deadUrl } }
        $result = Test-VlmEndpoint -BaseUrl $url -Model $Model
        $result.Passed | Should -BeFalse
        $result.Diagnosis -join "`n" | Should -BeLike $Expected
        if ($Url -eq 'dead') { $result.Reachable | Should -BeFalse }
    }
}

Describe 'Preflight' {
    BeforeAll {
        $images = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'preflight')
        1..3 | ForEach-Object { New-TestImage $server (Join-Path $images "p$_.png") | Out-Null }
    }

    It 'stops Get-VlmCaption with one error when the server is down' {
        { Get-ChildItem $images -File | Get-VlmCaption -BaseUrl $deadUrl -Model test -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConnectionFailed,VlmCaption.PowerShell.Commands.GetVlmCaptionCommand'
    }

    It 'stops with the listed models when the model is unknown, before any chat request' {
        Reset-TestServer $server -Options @{ models = @('loaded-one') }
        { Get-ChildItem $images -File | Get-VlmCaption -BaseUrl $server.BaseUrl -Model 'not-loaded' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ModelNotFound,VlmCaption.PowerShell.Commands.GetVlmCaptionCommand' -ExpectedMessage "*does not list the model 'not-loaded'*lists loaded-one*"
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }

    It 'asks nothing when every image is skipped, so a finished folder needs no server' {
        $done = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'done')
        New-TestImage $server (Join-Path $done 'd.png') | Out-Null
        Set-Content (Join-Path $done 'd.txt') 'a caption'
        @(Get-ChildItem $done -File | Get-VlmCaption -BaseUrl $deadUrl -Model test -SkipExisting -ErrorAction Stop) | Should -BeNullOrEmpty
    }

    It 'stops Invoke-VlmCaptionRun the same way' {
        $config = Join-Path $TestDrive 'preflight.yaml'
        Set-Content $config "base_url: $deadUrl`nmodel: test`nprompts: [a]`nbase_directory: preflight"
        { Invoke-VlmCaptionRun $config -ErrorAction Stop } | Should -Throw -ErrorId 'ConnectionFailed,VlmCaption.PowerShell.Commands.InvokeVlmCaptionRunCommand'
    }
}

Describe 'Circuit breaker' {
    It 'stops a run after K images in a row fail on the server, keeping what was written' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'breaker')
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        1..10 | ForEach-Object { New-TestImage $server (Join-Path $images ('b{0:00}.png' -f $_)) -Width (20 + $_) | Out-Null }
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'status'; status = 503; requests = @(3..100) }) }
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nbase_directory: images`nmax_retries: 0`nmax_consecutive_failures: 3"

        { Invoke-VlmCaptionRun $config -ErrorAction SilentlyContinue -OutVariable script:output } |
            Should -Throw -ErrorId 'TooManyEndpointFailures,VlmCaption.PowerShell.Commands.InvokeVlmCaptionRunCommand' -ExpectedMessage '*3 images in a row*3 x *HTTP 503*Captions already written are kept*'

        (Get-ChildItem $images -Filter *.txt).Name | Should -Be @('b01.txt', 'b02.txt')
        @(Get-TestServerRequest $server).Count | Should -Be 5
        $script:output.Succeeded | Should -Be 2
        $script:output.Failed | Should -Be 3
    }

    It 'does not count failures that are about the image' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'bad-images')
        1..4 | ForEach-Object { Set-Content (Join-Path $folder "bad$_.png") 'not a png' }
        New-TestImage $server (Join-Path $folder 'z-good.png') | Out-Null
        Reset-TestServer $server
        $results = @(Get-ChildItem $folder -File | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -MaxConsecutiveFailures 2 -ErrorVariable errors -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 1
        $errors.Count | Should -Be 4
        $errors | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'ImageDecodeFailed,*' }
    }
}

Describe 'Several servers' {
    BeforeAll {
        $good1 = Start-TestServer -Arguments '--latency-ms', '50'
        $good2 = Start-TestServer -Arguments '--latency-ms', '50'
        $broken = Start-TestServer
        Reset-TestServer $broken -Options @{ models = @('test'); faults = @(@{ kind = 'status'; status = 500 }) }
    }

    AfterAll {
        $good1, $good2, $broken | ForEach-Object { Stop-TestServer $_ }
    }

    It 'spreads 30 images over three endpoints, the throttle per endpoint, and routes around the failing one' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'spread')
        1..30 | ForEach-Object { New-TestImage $server (Join-Path $folder ('s{0:00}.png' -f $_)) -Width (30 + $_) | Out-Null }

        $results = @(Get-ChildItem $folder -File |
                Get-VlmCaption -BaseUrl $good1.BaseUrl, $broken.BaseUrl, $good2.BaseUrl -Model test -ThrottleLimit 2 -MaxRetries 0 -ErrorVariable errors)

        $results.Count | Should -Be 30
        $errors | Should -BeNullOrEmpty
        ($results.BaseUrl | Sort-Object -Unique) | Should -Be (@($good1.BaseUrl, $good2.BaseUrl) | Sort-Object)
        $fromGood1 = @($results | Where-Object BaseUrl -eq $good1.BaseUrl).Count
        $fromGood1 | Should -BeGreaterThan 5
        (30 - $fromGood1) | Should -BeGreaterThan 5
        (Get-TestServerStat $good1).maxInFlight | Should -Be 2
        (Get-TestServerStat $good2).maxInFlight | Should -Be 2
        $brokenRequests = @(Get-TestServerRequest $broken).Count
        $brokenRequests | Should -BeLessThan 8 -Because 'an endpoint that keeps failing rests after 3 failures in a row'
        Write-Host "    good1: $fromGood1 images, good2: $(30 - $fromGood1), failing endpoint tried $brokenRequests times"
    }

    It 'goes on with the servers that answer when one of several is down, and stops only when none answers' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'onedown')
        1..4 | ForEach-Object { New-TestImage $server (Join-Path $folder ('d{0}.png' -f $_)) -Width (30 + $_) | Out-Null }
        $config = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $config -Value "base_url: [$deadUrl, $($good1.BaseUrl)]`nmodel: test`nbase_directory: .`nprompts: [a]"
        $summary = Invoke-VlmCaptionRun $config -WarningVariable w -WarningAction SilentlyContinue
        $summary.Succeeded | Should -Be 4
        "$w" | Should -BeLike "*Could not reach $deadUrl*The run goes on without it, with the other 1 of 2 servers*"
        Set-Content -LiteralPath $config -Value "base_url: [$deadUrl, $deadUrl/other]`nmodel: test`nbase_directory: .`nprompts: [a]"
        Get-ChildItem -LiteralPath $folder -Filter *.txt | Remove-Item
        { Invoke-VlmCaptionRun $config -WarningAction SilentlyContinue } | Should -Throw -ErrorId 'ConnectionFailed*'
    }
}
