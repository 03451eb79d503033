# Two runs over one folder at once (a second machine on the same share, a run started twice): every image is
# captioned once, by one of them.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1') -ServerArguments '--latency-ms', '100'
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Two runs on one folder' {
    It 'captions each of 40 images once when two runs share the folder, and leaves no claim behind' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'shared')
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        1..40 | ForEach-Object { New-TestImage $server (Join-Path $images ('c{0:00}.png' -f $_)) -Width (100 + $_) -Height 10 | Out-Null }
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nbase_directory: images`nconcurrent_batch_size: 4`nskip_if_caption_exists: true"
        Reset-TestServer $server -Options @{ models = @('test'); latencyMs = 100 }
        $runner = Join-Path $folder 'run.ps1'
        Set-Content $runner "Import-Module '$env:VLMCAPTION_MODULE'; `$s = Invoke-VlmCaptionRun '$config'; `"`$(`$s.Succeeded) `$(`$s.Skipped)`""
        $runs = 1..2 | ForEach-Object {
            Start-FreshPwshFile $runner -RedirectStandardOutput (Join-Path $folder "out$_.txt")
        }
        $runs | ForEach-Object { $_.WaitForExit(120000) | Should -BeTrue }
        $counts = 1..2 | ForEach-Object { (Get-Content (Join-Path $folder "out$_.txt") -Raw).Trim() -split ' ' | ForEach-Object { [int]$_ } }

        $widths = @(Get-TestServerRequest $server | ForEach-Object { $_.image.width })
        $widths.Count | Should -Be 40 -Because 'no image is sent twice'
        @($widths | Sort-Object -Unique).Count | Should -Be 40
        (Get-ChildItem $images -Filter *.txt).Count | Should -Be 40
        ($counts[0] + $counts[2]) | Should -Be 40 -Because 'the two runs captioned 40 between them'
        Get-ChildItem $images -Force -Filter '.vlmcaption-claim-*' | Should -BeNullOrEmpty
        Write-Host "    the two runs captioned $($counts[0]) and $($counts[2]) images"
    }

    It "takes over a claim whose process is gone" {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'stale')
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        $image = New-TestImage $server (Join-Path $images 'orphan.png')
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nbase_directory: images`nskip_if_caption_exists: true"
        # A claim of a process that cannot exist on this host (a killed run's).
        $sha = [Security.Cryptography.SHA256]::Create().ComputeHash([Text.Encoding]::UTF8.GetBytes('orphan.png'))
        $claim = Join-Path $images ('.vlmcaption-claim-' + ([BitConverter]::ToString($sha, 0, 8) -replace '-').ToLowerInvariant())
        Set-Content -LiteralPath $claim -Value "$([Environment]::MachineName)`n2147483646`n$([datetime]::UtcNow.ToString('o'))`norphan.png" -NoNewline
        Reset-TestServer $server -Options @{ models = @('test') }
        (Invoke-VlmCaptionRun $config).Succeeded | Should -Be 1
        Test-Path -LiteralPath $claim | Should -BeFalse
    }
}
