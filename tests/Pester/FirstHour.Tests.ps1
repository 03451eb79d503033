# What a new user trips over in the first hour (issue 27): each case here was seen, and each failed before its fix.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Reading captions back from an output folder' {
    It 'mirrors from the folder given when no base directory is named, as the run over it wrote them' {
        $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'mirror')
        $dataset = New-Item -ItemType Directory -Path (Join-Path $root 'dataset/sub') -Force
        New-TestImage $server (Join-Path $dataset 'a.png') | Out-Null
        $captions = New-Item -ItemType Directory -Path (Join-Path $root 'captions/sub') -Force
        Set-Content -LiteralPath (Join-Path $captions 'a.txt') -Value 'a red square' -NoNewline
        Push-Location $root
        try {
            $read = @(Import-VlmCaption ./dataset -Recurse -Destination ./captions)
        }
        finally {
            Pop-Location
        }
        $read.Count | Should -Be 1
        $read[0].Caption | Should -Be 'a red square'
    }

    It 'says so when no image has a caption in the output folder' {
        $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'nomirror')
        $dataset = New-Item -ItemType Directory -Path (Join-Path $root 'dataset')
        New-TestImage $server (Join-Path $dataset 'a.png') | Out-Null
        $empty = New-Item -ItemType Directory -Path (Join-Path $root 'captions')
        $read = @(Import-VlmCaption $dataset -Destination $empty -BaseDirectory $root -WarningVariable w -WarningAction SilentlyContinue)
        $read | Should -BeNullOrEmpty
        "$w" | Should -BeLike "*None of the 1 images has a caption in '$($empty.FullName)'*"
    }
}

Describe 'Nothing to do is said, not left to be noticed' {
    It 'warns of a folder without images and of an -Include that matches nothing' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'noimages')
        Set-Content -LiteralPath (Join-Path $folder 'notes.md') -Value 'no images here'
        @(Get-VlmCaption $folder -BaseUrl $server.BaseUrl -Model test -WarningVariable w -WarningAction SilentlyContinue) | Should -BeNullOrEmpty
        "$w" | Should -BeLike "*'$($folder.FullName)' holds no images*"
        New-TestImage $server (Join-Path $folder 'a.png') | Out-Null
        @(Import-VlmCaption $folder -Include *.jpg -WarningVariable w2 -WarningAction SilentlyContinue) | Should -BeNullOrEmpty
        "$w2" | Should -BeLike '*holds no images matching -Include `*.jpg*'
    }

    It 'warns when a folder run finds no image' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'emptyrun')
        $config = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $config -Value "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]"
        $summary = Invoke-VlmCaptionRun $config -WarningVariable w -WarningAction SilentlyContinue
        $summary.Total | Should -Be 0
        "$w" | Should -BeLike '*There are no images in*nothing to caption*'
    }
}

Describe 'Trigger words' {
    It 'warns of a prefix or suffix joined without a separator, once a pipeline' {
        Reset-TestServer $server -Options @{ models = @('test') }
        $folder = New-TestImageFolder $server $TestDrive -Count 2 -Prefix t
        Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test |
            Save-VlmCaption -Prefix ohwx -WarningVariable w -WarningAction SilentlyContinue | Out-Null
        @($w).Count | Should -Be 1
        "$w" | Should -BeLike "*prefix 'ohwx' ends without a separator*'ohwx, '*"
        Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test |
            Save-VlmCaption -Prefix 'ohwx, ' -Force -WarningVariable w2 -WarningAction SilentlyContinue | Out-Null
        $w2 | Should -BeNullOrEmpty
    }
}

Describe 'Feedback at the end of a run' {
    It 'ends -WhatIf with the count of images it would caption and skip' {
        Reset-TestServer $server -Options @{ models = @('test') }
        $folder = New-TestImageFolder $server $TestDrive -Count 3 -Prefix w
        Set-Content -LiteralPath (Join-Path $folder 'w1.txt') -Value 'done'
        $config = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $config -Value "base_url: $($server.BaseUrl)`nmodel: test`nbase_directory: .`nprompts: [a]`nskip_if_caption_exists: true"
        $lines = Invoke-FreshPwshScript -ScriptBlock { param($Module, $Config) Import-Module $Module; Invoke-VlmCaptionRun $Config -WhatIf } -ArgumentList $env:VLMCAPTION_MODULE, $config
        ($lines | Select-Object -Last 1) | Should -Be 'What if: 2 of 3 images would be captioned; 1 have a caption and would be skipped.'
        @(Get-TestServerRequest $server) | Should -BeNullOrEmpty
    }
}

Describe 'Answers cut short or empty for a reason the user cannot see' {
    It 'says that hidden reasoning may have used the limit when an answer is empty and cut off' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'hidden-reasoning' }) }
        $folder = New-TestImageFolder $server $TestDrive -Count 1 -Prefix h
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -ErrorVariable e -ErrorAction SilentlyContinue)
        $results | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'EmptyCaption*'
        $e[0].Exception.Message | Should -BeLike '*before the answer limit of * tokens ran out*reasoning it does not show*-ReasoningEffort*'
    }

    It 'warns of a turn before the last cut off by the limit, and marks the result' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'length'; turn = 1 }) }
        $folder = New-TestImageFolder $server $TestDrive -Count 1 -Prefix c
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -Prompt 'Describe.', 'Shorten.' -WarningVariable w -WarningAction SilentlyContinue)
        $results.Count | Should -Be 1
        $results[0].Status | Should -Be 'Succeeded'
        $results[0].CutOffTurns | Should -Be 1
        "$w" | Should -BeLike '*1 turn(s) before the caption were cut off by the answer limit*'
    }
}

Describe 'Through a proxy' {
    BeforeAll {
        # A host that exists nowhere: a request for it reaches the server only through the proxy (the reference
        # server standing in for one), which is told the whole URL.
        $farAway = "http://vlm.invalid:$($server.Port)/v1"
        $proxy = "http://127.0.0.1:$($server.Port)"
    }

    It 'goes through -Proxy for the model list and every request, and Test-VlmEndpoint names the proxy' {
        Reset-TestServer $server -Options @{ models = @('test') }
        $folder = New-TestImageFolder $server $TestDrive -Count 2 -Prefix x
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $farAway -Model test -Proxy $proxy)
        $results.Count | Should -Be 2
        (Get-TestServerStat $server).proxiedRequests | Should -BeGreaterOrEqual 3 -Because 'the model list and two chat requests came through the proxy'
        (Get-VlmModel -BaseUrl $farAway -Proxy $proxy).Id | Should -Be 'test'
        $test = Test-VlmEndpoint -BaseUrl $farAway -Model test -Proxy $proxy
        $test.Passed | Should -BeTrue
        $test.Proxy | Should -Be $proxy
    }

    It 'signs in to a proxy with -ProxyCredential, never showing the password, and reads proxy from caption.yaml' {
        Reset-TestServer $server -Options @{ models = @('test'); proxyAuthorization = 'alice:s3cret-pw' }
        $folder = New-TestImageFolder $server $TestDrive -Count 1 -Prefix y
        $config = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $config -Value "base_url: $farAway`nmodel: test`nbase_directory: .`nprompts: [a]`nproxy: $proxy"
        $refused = { Invoke-VlmCaptionRun $config -ErrorAction Stop } | Should -Throw -PassThru -Because 'the proxy asks for credentials (407)'
        $refused.Exception.Message | Should -BeLike '*HTTP 407 Proxy Authentication Required*Give -ProxyCredential*'
        $refused.Exception.Message | Should -Not -BeLike '*<html*' -Because "the proxy's page is markup, not a message"
        $credential = [pscredential]::new('alice', (ConvertTo-SecureString 's3cret-pw' -AsPlainText -Force))
        $summary = Invoke-VlmCaptionRun $config -ProxyCredential $credential -Verbose 4>&1 | Where-Object { $_ -is [VlmCaption.RunSummary] }
        $summary.Succeeded | Should -Be 1
        $test = Test-VlmEndpoint -Config $config -ProxyCredential $credential
        $test.Passed | Should -BeTrue
        ($test | Out-String) + $test.Proxy | Should -Not -BeLike '*s3cret-pw*'
    }

    It 'honours HTTP_PROXY from the environment, as a scheduled task would set it' -Skip:($IsWindows) {
        Reset-TestServer $server -Options @{ models = @('test') }
        $folder = New-TestImageFolder $server $TestDrive -Count 1 -Prefix z
        $lines = Invoke-FreshPwshScript -ScriptBlock {
            param($Module, $Folder, $Url, $Proxy)
            $env:HTTP_PROXY = $Proxy
            Import-Module $Module
            $result = Get-ChildItem $Folder -Filter *.png | Get-VlmCaption -BaseUrl $Url -Model test
            "captions $(@($result).Count)"
            "proxy $((Test-VlmEndpoint -BaseUrl $Url -Model test).Proxy)"
        } -ArgumentList $env:VLMCAPTION_MODULE, $folder, $farAway, $proxy
        $lines | Should -Contain 'captions 1'
        $lines | Should -Contain "proxy $proxy (from the environment)"
    }

    It 'refuses a proxy that is no http address before any request, without repeating it' {
        { Get-VlmModel -BaseUrl $farAway -Proxy 'ftp://user:hunter2@proxy' } | Should -Throw -ErrorId 'InvalidProxy*'
        $e = { Get-VlmModel -BaseUrl $farAway -Proxy 'ftp://user:hunter2@proxy' } | Should -Throw -PassThru
        $e.Exception.Message | Should -Not -BeLike '*hunter2*'
    }
}

Describe 'Through a real squid' {
    # The reference server's proxy is our reading of a proxy; squid is one users have. Debian's squid, which
    # .ci/run installs; where there is none the test says so and is skipped.
    BeforeAll {
        $squid = Start-Squid -Folder (Join-Path $TestDrive 'squid') -User alice -Password 's3cret-pw'
        if (-not $squid) { Write-Host 'FirstHour.Tests: no squid here (Debian: apt-get install squid), so the proxy was NOT checked against a real one.' -ForegroundColor Yellow }
    }

    AfterAll {
        Stop-Squid $squid
    }

    It 'asks for -ProxyCredential in words when squid answers 407, and captions through it with the credential' {
        if (-not $squid) { Set-ItResult -Skipped -Because 'no squid here'; return }
        Reset-TestServer $server -Options @{ models = @('test') }
        $folder = New-TestImageFolder $server $TestDrive -Count 2 -Prefix q
        $refused = { Get-VlmModel -BaseUrl $server.BaseUrl -Proxy $squid.Address -ErrorAction Stop } | Should -Throw -PassThru
        $refused.Exception.Message | Should -BeLike '*HTTP 407 Proxy Authentication Required*Give -ProxyCredential*'
        $credential = [pscredential]::new('alice', (ConvertTo-SecureString 's3cret-pw' -AsPlainText -Force))
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -Proxy $squid.Address -ProxyCredential $credential)
        $results.Count | Should -Be 2
        $log = Get-Content -LiteralPath $squid.AccessLog
        @($log | Where-Object { $_ -match 'TCP_MISS/200 .* POST http://127\.0\.0\.1:\d+/v1/chat/completions alice ' }).Count | Should -Be 2 -Because 'both answers came through squid, signed in as alice'
    }
}
