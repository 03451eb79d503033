# Runs that are killed or stopped: in the end every image has exactly one whole caption, and nothing that was
# finished is sent again.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1') -ServerArguments '--latency-ms', '100'
    $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'killed')
    $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
    1..40 | ForEach-Object { New-TestImage $server (Join-Path $images ('k{0:00}.png' -f $_)) -Width (200 + $_) -Height 20 | Out-Null }
    $config = Join-Path $folder 'caption.yaml'
    Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe., Summarise.]`nbase_directory: images`nconcurrent_batch_size: 4`nskip_if_caption_exists: true"
    $runner = Join-Path $folder 'run.ps1'
    Set-Content $runner "Import-Module '$env:VLMCAPTION_MODULE'; Invoke-VlmCaptionRun '$config' | Out-Null"

    function Get-Captioned { @(Get-ChildItem $images -Filter *.txt | ForEach-Object { 200 + [int]($_.BaseName -replace 'k') }) }

    function Assert-WholeCaptions {
        foreach ($caption in Get-ChildItem $images -Filter *.txt) {
            $width = 200 + [int]($caption.BaseName -replace 'k')
            Get-Content -LiteralPath $caption.FullName -Raw | Should -Match "^Red (JPEG|PNG) image, ${width}x20 pixels\. Turn 2\. Text [0-9a-f]{8}\.$"
        }
    }

    function Get-RequestedWidths { @(Get-TestServerRequest $server | ForEach-Object { $_.image.width } | Sort-Object -Unique) }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Interrupted runs' {
    It 'survives SIGKILL at random moments, four times, then finishes with one whole caption per image' -Tag Slow {
        $random = [Random]::new(20261126)
        $killedAfter = @()
        foreach ($round in 1..4) {
            $before = Get-Captioned
            Reset-TestServer $server -Options @{ models = @('test'); latencyMs = 100 }
            $process = Start-FreshPwshFile $runner
            # Kill once the run is under way: after a random number of requests, not a fixed sleep.
            $target = $random.Next(4, 20)
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while (@(Get-TestServerRequest $server).Count -lt $target -and -not $process.HasExited -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 10 }
            $process.Kill()
            $process.WaitForExit()
            $killedAfter += $target

            $resent = @(Get-RequestedWidths | Where-Object { $_ -in $before })
            $resent | Should -BeNullOrEmpty -Because "images captioned before round $round must not be sent again"
            Assert-WholeCaptions
        }

        $before = Get-Captioned
        Reset-TestServer $server -Options @{ models = @('test'); latencyMs = 100 }
        $summary = Invoke-VlmCaptionRun $config
        @(Get-RequestedWidths | Where-Object { $_ -in $before }) | Should -BeNullOrEmpty
        $summary.Skipped | Should -Be $before.Count
        $summary.Succeeded | Should -Be (40 - $before.Count)
        (Get-Captioned).Count | Should -Be 40
        Assert-WholeCaptions
        # A killed write can leave its temporary file; it is marked as ours, and removed once it is old.
        Get-ChildItem $images -Force -Filter *.tmp | Where-Object Name -notmatch '^\.vlmcaption-[0-9a-f]{16}\.tmp$' | Should -BeNullOrEmpty
        Write-Host "    killed after $($killedAfter -join ', ') requests; $($before.Count) images were done before the last run"
    }

    It 'stops promptly on Ctrl+C and leaves only whole captions' {
        Get-ChildItem $images -Filter *.txt | Remove-Item
        $leftBefore = @(Get-ChildItem $images -Force -Filter *.tmp).Name
        Reset-TestServer $server -Options @{ models = @('test'); latencyMs = 20000 }
        $ps = [powershell]::Create()
        $null = $ps.AddScript({ param($Module, $Config) Import-Module $Module; Invoke-VlmCaptionRun $Config }).AddArgument($env:VLMCAPTION_MODULE).AddArgument($config)
        $handle = $ps.BeginInvoke()
        $deadline = [datetime]::UtcNow.AddSeconds(20)
        while ((Get-TestServerStat $server).inFlight -lt 4 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }

        $clock = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $clock.Stop()

        $handle.IsCompleted | Should -BeTrue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 10 -Because 'requests in flight are cancelled, not awaited for 20 s'
        Get-ChildItem $images -Filter *.txt | Should -BeNullOrEmpty
        Get-ChildItem $images -Force -Filter *.tmp | Where-Object Name -notin $leftBefore | Should -BeNullOrEmpty -Because 'Ctrl+C leaves no temporary file of its own'
        $ps.Dispose()
        Write-Host "    Invoke-VlmCaptionRun stopped in $([int]$clock.Elapsed.TotalMilliseconds) ms"
    }
}
