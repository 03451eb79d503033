# Every scripted fault, over a run of 50 images at 8 in flight: each image ends captioned or reported with the
# right ErrorId, retries wait as the server asks, and no caption file is ever partial or empty.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $source = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'source')
    # Widths 101..150 name the images in the server's log.
    1..50 | ForEach-Object { New-TestImage $server (Join-Path $source ('f{0:00}.png' -f $_)) -Width (100 + $_) -Height 20 | Out-Null }

    function Invoke-FaultRun([hashtable] $Options, [string] $Extra = '', $Server = $server) {
        Reset-TestServer $Server -Options $Options
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        Copy-Item $source (Join-Path $folder 'images') -Recurse
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($Server.BaseUrl)`nmodel: test`nprompts: [Describe.]`nbase_directory: images`nconcurrent_batch_size: 8`nmax_consecutive_failures: 0`n$Extra"
        $summary = Invoke-VlmCaptionRun $config -ErrorVariable +runErrors -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        [pscustomobject]@{ Summary = $summary; Images = Join-Path $folder 'images'; Errors = @($runErrors) }
    }

    function Assert-WholeCaptions([string] $Folder, [int] $Expected) {
        $captions = @(Get-ChildItem $Folder -Filter *.txt)
        $captions.Count | Should -Be $Expected
        foreach ($caption in $captions) {
            $width = 100 + [int]($caption.BaseName -replace 'f')
            Get-Content -LiteralPath $caption.FullName -Raw | Should -Match "^Red (JPEG|PNG) image, ${width}x20 pixels\. Turn 1\. Text [0-9a-f]{8}\.$"
        }
        Get-ChildItem $Folder -Force -Filter '*.tmp' | Should -BeNullOrEmpty
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Transient faults are retried until every image is captioned' {
    It '<Case>' -ForEach @(
        @{ Case = 'HTTP 429 with Retry-After'; Faults = @(@{ kind = 'status'; status = 429; retryAfter = 1; requests = @(1..8) }) }
        @{ Case = 'HTTP 500'; Faults = @(@{ kind = 'status'; status = 500; requests = @(1..60 | Where-Object { $_ % 3 -eq 0 }) }) }
        @{ Case = 'HTTP 503'; Faults = @(@{ kind = 'status'; status = 503; times = 12 }) }
        @{ Case = 'connection dropped mid-body'; Faults = @(@{ kind = 'drop'; times = 12 }) }
        @{ Case = 'malformed JSON'; Faults = @(@{ kind = 'malformed'; times = 12 }) }
    ) {
        $run = Invoke-FaultRun @{ models = @('test'); faults = $Faults }
        $run.Summary.Succeeded | Should -Be 50
        $run.Summary.Failed | Should -Be 0
        $run.Errors | Should -BeNullOrEmpty
        Assert-WholeCaptions $run.Images 50
    }

    It 'waits at least Retry-After before sending an image again' {
        $run = Invoke-FaultRun @{ models = @('test'); faults = @(@{ kind = 'status'; status = 429; retryAfter = 2; requests = @(1..8) }) }
        $run.Summary.Succeeded | Should -Be 50
        $requests = Get-TestServerRequest $server
        $limited = $requests | Where-Object status -eq 429
        $limited.Count | Should -Be 8
        foreach ($refused in $limited) {
            $next = $requests | Where-Object { $_.n -gt $refused.n -and $_.image.width -eq $refused.image.width } | Select-Object -First 1
            ([datetimeoffset]$next.time - [datetimeoffset]$refused.time).TotalSeconds | Should -BeGreaterOrEqual 1.95
        }
    }
}

Describe 'Lasting faults fail only their images, with the right ErrorId' {
    It 'a server slower than timeout_sec: RequestTimedOut' {
        $run = Invoke-FaultRun @{ models = @('test'); faults = @(@{ kind = 'delay'; delayMs = 4000; imageSize = '101x20' }, @{ kind = 'delay'; delayMs = 4000; imageSize = '102x20' }) } "timeout_sec: 1`nmax_retries: 1"
        $run.Summary.Succeeded | Should -Be 48
        $run.Summary.Failures.ErrorId | Should -Be @('RequestTimedOut', 'RequestTimedOut')
        ($run.Summary.Failures.Path | Split-Path -Leaf | Sort-Object) | Should -Be @('f01.png', 'f02.png')
        Assert-WholeCaptions $run.Images 48
    }

    It 'empty content: EmptyCaption, and no empty file' {
        $run = Invoke-FaultRun @{ models = @('test'); faults = @(@{ kind = 'empty'; imageSize = '110x20' }, @{ kind = 'empty'; imageSize = '120x20' }) }
        $run.Summary.Failed | Should -Be 2
        $run.Summary.Failures.ErrorId | Should -Be @('EmptyCaption', 'EmptyCaption')
        $run.Errors.Count | Should -Be 2
        Assert-WholeCaptions $run.Images 48
    }

    It 'finish_reason length: counted as Truncated and not written' {
        $run = Invoke-FaultRun @{ models = @('test'); faults = @(@{ kind = 'length'; imageSize = '130x20' }) }
        $run.Summary.Truncated | Should -Be 1
        $run.Summary.Succeeded | Should -Be 49
        Test-Path (Join-Path $run.Images 'f30.txt') | Should -BeFalse
        Assert-WholeCaptions $run.Images 49
    }
}

Describe 'A server that goes away in the middle of a run and comes back' {
    It 'captions every image once the server is back' -Tag Slow {
        $port = & { $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); $p }
        $flaky = Start-TestServer -Arguments '--port', $port, '--latency-ms', '100'
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'flaky')
        Copy-Item $source (Join-Path $folder 'images') -Recurse
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($flaky.BaseUrl)`nmodel: test`nprompts: [Describe.]`nbase_directory: images`nconcurrent_batch_size: 8`nmax_retries: 6"
        $ps = [powershell]::Create()
        $null = $ps.AddScript({ param($Module, $Config) Import-Module $Module; Invoke-VlmCaptionRun $Config -WarningAction SilentlyContinue }).AddArgument($env:VLMCAPTION_MODULE).AddArgument($config)
        $handle = $ps.BeginInvoke()
        try {
            $deadline = [datetime]::UtcNow.AddSeconds(30)
            while (@(Get-TestServerRequest $flaky).Count -lt 16 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            Stop-TestServer $flaky
            Start-Sleep -Milliseconds 1500
            $flaky = Start-TestServer -Arguments '--port', $port, '--latency-ms', '100'
            $summary = $ps.EndInvoke($handle) | Select-Object -Last 1
        }
        finally {
            Stop-TestServer $flaky
            $ps.Dispose()
        }
        $summary.Succeeded | Should -Be 50
        $summary.Failed | Should -Be 0
        Assert-WholeCaptions (Join-Path $folder 'images') 50
    }
}
