# Answers read as they stream: the idle limit instead of a total cap, errors inside streams, bounded answers,
# the fallbacks for servers that do not stream, live progress.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')

    function New-Images([int] $Count = 1) { New-TestImageFolder $server $TestDrive -Count $Count -Prefix t -FirstWidth 31 }

    function Get-ChatRequest { @(Get-TestServerRequest $server) }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'The idle limit' {
    It 'lets a 20-second answer that streams a token every 100 ms through -TimeoutSec 2, and shows its tokens' -Tag Slow {
        Reset-TestServer $server -Options @{ models = @('test'); tokenLatencyMs = 100; faults = @(@{ kind = 'long'; words = 200 }) }
        $folder = New-Images
        $ps = [powershell]::Create()
        $null = $ps.AddScript({ param($Module, $Folder, $Url) Import-Module $Module; Get-ChildItem $Folder -Filter *.png | Get-VlmCaption -BaseUrl $Url -Model test -TimeoutSec 2 }).
            AddArgument($env:VLMCAPTION_MODULE).AddArgument($folder.FullName).AddArgument($server.BaseUrl)
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $output = $ps.Invoke()
        $clock.Stop()
        $errors = @($ps.Streams.Error)
        $streaming = @($ps.Streams.Progress | Where-Object StatusDescription -like '*in flight, *tokens*')
        $ps.Dispose()
        $errors | Should -BeNullOrEmpty
        @($output).Count | Should -Be 1
        ($output[0].Caption -split ' ').Count | Should -Be 200
        $clock.Elapsed.TotalSeconds | Should -BeGreaterThan 19
        (Get-ChatRequest).Count | Should -Be 1
        $streaming.Count | Should -BeGreaterThan 5 -Because 'the bar shows the tokens a few times a second'
        $streaming[-1].StatusDescription | Should -Match '1 in flight, \d+ tokens/s'
        Write-Host "    a $([int]$clock.Elapsed.TotalSeconds)-second answer with -TimeoutSec 2; $($streaming.Count) progress updates, the last: $($streaming[-1].StatusDescription)"
    }

    It 'gives up on a server that goes silent mid-stream after the idle limit, and tries again' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'stall'; delayMs = 15000; times = 1 }) }
        $folder = New-Images
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $result = Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -TimeoutSec 2 -Verbose 4>&1 | Where-Object { $_ -is [VlmCaption.CaptionResult] -or $_ -is [Management.Automation.VerboseRecord] }
        $clock.Stop()
        $captions = @($result | Where-Object { $_ -is [VlmCaption.CaptionResult] })
        $captions.Count | Should -Be 1
        @($result | Where-Object { "$_" -like '*sent nothing for 2 s*Retry 1 of*' }).Count | Should -Be 1
        (Get-ChatRequest).Count | Should -Be 2
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 12 -Because 'the silence is cut after 2 s, not waited out'
    }

    It 'caps a whole request with -MaxRequestSec, and does not retry it' {
        Reset-TestServer $server -Options @{ models = @('test'); tokenLatencyMs = 100; faults = @(@{ kind = 'long'; words = 100 }) }
        $folder = New-Images
        Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -TimeoutSec 2 -MaxRequestSec 2 -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'RequestTimedOut,*'
        $errors[0].Exception.Message | Should -BeLike '*took longer than 2 s*-MaxRequestSec*'
        (Get-ChatRequest).Count | Should -Be 1
    }
}

Describe 'Errors inside streams' {
    It '<Case>' -ForEach @(
        @{ Case = "takes LM Studio's error event as the image's error, with its text"; Fault = 'stream-error'; Persona = 'lmstudio'; Id = 'RequestFailed'; Message = '*Model crashed while generating*'; Requests = 1 }
        @{ Case = "takes OpenRouter's finish_reason error in a chunk as the image's error"; Fault = 'finish-error'; Persona = 'openrouter'; Id = 'AnswerFailed'; Message = '*Upstream provider returned an error*'; Requests = 1 }
    ) {
        Reset-TestServer $server -Options @{ models = @('test'); persona = $Persona; faults = @(@{ kind = $Fault }) }
        $folder = New-Images
        Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $errors[0].Exception.Message | Should -BeLike $Message
        (Get-ChatRequest).Count | Should -Be $Requests
        Get-ChildItem $folder -Filter *.txt | Should -BeNullOrEmpty
    }

    It 'takes a stream that stops without a finish reason or [DONE] for a dropped connection, and retries' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'no-done'; times = 1 }) }
        $folder = New-Images
        $result = Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -ErrorVariable errors
        $errors | Should -BeNullOrEmpty
        $result.Caption | Should -BeLike 'Red * image, 31x48 pixels.*'
        (Get-ChatRequest).Count | Should -Be 2
    }
}

Describe 'Bounded answers' {
    It 'fails a 100 MB answer with AnswerTooLarge, streamed and not, within 400 MB of working set' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'huge'; bytes = 100MB }) }
        $folder = New-Images
        $lines = Invoke-FreshPwshScript {
            param($Module, $Folder, $Url)
            Import-Module $Module
            foreach ($stream in $true, $false) {
                Get-ChildItem $Folder -Filter *.png | Get-VlmCaption -BaseUrl $Url -Model test -NoStream:(-not $stream) -ErrorVariable failed -ErrorAction SilentlyContinue | Out-Null
                "$stream $($failed[0].FullyQualifiedErrorId)"
            }
            [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
        } -ArgumentList $env:VLMCAPTION_MODULE, $folder.FullName, $server.BaseUrl
        $lines[0] | Should -BeLike 'True AnswerTooLarge,*'
        $lines[1] | Should -BeLike 'False AnswerTooLarge,*'
        $peak = [long]$lines[-1]
        (Get-ChatRequest).Count | Should -Be 2 -Because 'an answer too large is not downloaded again'
        $peak | Should -BeLessThan 400MB
        Write-Host "    100 MB answers, streamed and not: AnswerTooLarge both; peak working set of the pwsh process $([int]($peak / 1MB)) MB"
    }
}

Describe 'Servers that do not stream' {
    It 'reads plain JSON from a server that ignores stream: true' {
        Reset-TestServer $server -Options @{ models = @('test'); ignoresStream = $true }
        $folder = New-Images 2
        @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test).Count | Should -Be 2
        (Get-ChatRequest)[0].body.stream | Should -BeTrue
    }

    It 'drops stream_options for a server that refuses them, once' {
        Reset-TestServer $server -Options @{ models = @('test'); rejectsStreamOptions = $true }
        $folder = New-Images 3
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -WarningVariable warnings)
        $results.Count | Should -Be 3
        $warnings | Should -BeLike '*stream_options*sent no stream_options*'
        (Get-ChatRequest).Count | Should -Be 4
        (Get-ChatRequest)[-1].body.PSObject.Properties.Name | Should -Not -Contain 'stream_options'
    }

    It 'sends stream: false with -NoStream and with stream: false in caption.yaml' {
        Reset-TestServer $server
        $folder = New-Images
        (Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -NoStream).Caption | Should -BeLike 'Red * image*'
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nstream: false"
        (Get-ChildItem $folder -Filter *.png | Get-VlmCaption -Config $config).Caption | Should -BeLike 'Red * image*'
        (Get-ChatRequest).body.stream | Should -Be @($false, $false)
        (Get-ChatRequest).body.PSObject.Properties.Name | Should -Not -Contain 'stream_options'
    }
}

Describe 'Stopping a stream' {
    It 'cancels a stream in flight at once on Ctrl+C and writes nothing' {
        Reset-TestServer $server -Options @{ models = @('test'); tokenLatencyMs = 100; faults = @(@{ kind = 'long'; words = 300 }) }
        $folder = New-Images
        $images = $folder.FullName
        Set-Content (Join-Path $folder 'caption.yaml') "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nbase_directory: ."
        $ps = [powershell]::Create()
        $null = $ps.AddScript({ param($Module, $Config) Import-Module $Module; Invoke-VlmCaptionRun $Config }).AddArgument($env:VLMCAPTION_MODULE).AddArgument((Join-Path $folder 'caption.yaml'))
        $handle = $ps.BeginInvoke()
        Start-Sleep -Seconds 2
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $clock.Stop()
        $handle.IsCompleted | Should -BeTrue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 3
        Get-ChildItem $images -Filter *.txt | Should -BeNullOrEmpty
        Get-ChildItem $images -Force -Filter *.tmp | Should -BeNullOrEmpty
        $ps.Dispose()
    }
}
