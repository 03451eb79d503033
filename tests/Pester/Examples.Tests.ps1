# The files in examples/ work as their comments say.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $examples = Join-Path $PSScriptRoot '../../examples'
}

AfterAll {
    Stop-TestServer $server
}

Describe 'examples/caption.yaml' {
    It 'loads without warnings and captions the example images with its hints, codex and trigger word' {
        $copy = Join-Path $TestDrive 'example'
        Copy-Item $examples $copy -Recurse
        $config = Import-VlmCaptionConfig (Join-Path $copy 'caption.yaml') -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
        $config.BaseUrl = @($server.BaseUrl)

        $summary = $config | Invoke-VlmCaptionRun

        $summary.Succeeded | Should -Be 4
        Get-Content (Join-Path $copy 'images/red-square.txt') -Raw | Should -BeLike 'vlmx, Red * image, 64x64 pixels. Turn 2.*'
        $first = (Get-TestServerRequest $server | Where-Object { $_.turn -eq 1 -and $_.image.width -eq 64 }).body.messages
        $first[0].content | Should -BeLike 'Character codex*Red Square*You describe images*'
        $first[1].content[0].text | Should -BeLike "*Json Metadata:*Red Square*Directory metadata:*flat colour*File details:*- Size: * KB*Describe the image in detail."
    }
}

Describe 'examples/Invoke-NightlyCaption.ps1' {
    BeforeEach {
        Reset-TestServer $server
        $copy = Join-Path $TestDrive ([guid]::NewGuid())
        Copy-Item $examples $copy -Recurse
        $configPath = Join-Path $copy 'caption.yaml'
        (Get-Content $configPath) -replace '^base_url: .*', "base_url: $($server.BaseUrl)" | Set-Content $configPath
        $log = Join-Path $copy 'runs.log'
        $nightly = Join-Path $examples 'Invoke-NightlyCaption.ps1'
    }

    It 'exits 0 and logs the summary when every image is captioned' {
        Invoke-FreshPwsh -Arguments '-NoProfile', '-File', $nightly, '-ConfigPath', $configPath, '-LogPath', $log, '-ModulePath', $env:VLMCAPTION_MODULE | Out-Null
        $LASTEXITCODE | Should -Be 0
        $entry = Get-Content $log | ConvertFrom-Json
        $entry.Succeeded | Should -Be 4
        $entry.Failed | Should -Be 0
    }

    It 'exits 1 when an image fails' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'status'; status = 400; imageSize = '64x64' }) }
        Invoke-FreshPwsh -Arguments '-NoProfile', '-File', $nightly, '-ConfigPath', $configPath, '-LogPath', $log, '-ModulePath', $env:VLMCAPTION_MODULE 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 1
        (Get-Content $log | ConvertFrom-Json).Failures | Should -BeLike '*red-square.png: RequestFailed'
    }

    It 'exits 4, not 1, when the only failure is a damaged image, which fails on every run' {
        [IO.File]::WriteAllBytes((Join-Path $copy 'images/damaged.png'), [byte[]] (0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A) + [byte[]]::new(64))
        Invoke-FreshPwsh -Arguments '-NoProfile', '-File', $nightly, '-ConfigPath', $configPath, '-LogPath', $log, '-ModulePath', $env:VLMCAPTION_MODULE 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 4
        $entry = Get-Content $log | ConvertFrom-Json
        $entry.Succeeded | Should -Be 4
        $entry.Failures | Should -BeLike '*damaged.png: ImageDecodeFailed'
    }

    It 'finds the module that ./build.ps1 Build made when none is installed and none is named' {
        Invoke-FreshPwsh -Arguments '-NoProfile', '-File', $nightly, '-ConfigPath', $configPath, '-LogPath', $log | Out-Null
        $LASTEXITCODE | Should -Be 0
        (Get-Content $log | ConvertFrom-Json).Succeeded | Should -Be 4
    }

    It 'exits 2, not 1, when the module cannot be imported' {
        Invoke-FreshPwsh -Arguments '-NoProfile', '-File', $nightly, '-ConfigPath', $configPath, '-LogPath', $log, '-ModulePath', (Join-Path $TestDrive 'nowhere/VlmCaption.psd1') 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 2
        (Get-Content $log | ConvertFrom-Json).ErrorId | Should -BeLike 'Modules_ModuleNotFound,*'
    }

    It 'exits 3, not 0, when <_> interrupts the run' -Skip:$IsWindows -ForEach 'INT', 'TERM' {
        $signal = $_
        Reset-TestServer $server -Options @{ models = @('test'); latencyMs = 5000 }
        $exe = [Environment]::ProcessPath
        $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        # Through env, so that SIGINT is handled even when this process inherited it ignored (a background job's children do).
        $arguments = @('--default-signal=INT', $exe) + $prefix + @('-NoProfile', '-NonInteractive', '-File', $nightly, '-ConfigPath', $configPath, '-LogPath', $log, '-ModulePath', $env:VLMCAPTION_MODULE)
        $process = Start-Process -FilePath 'env' -ArgumentList $arguments -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'out.txt') -RedirectStandardError (Join-Path $TestDrive 'err.txt')
        try {
            # Signalled once the run is sending (a busy machine may take long to start pwsh): the summary then
            # has its total, and a signal that came before the run began would test something else.
            $deadline = [datetime]::UtcNow.AddSeconds(180)
            while ((Get-TestServerStat $server).inFlight -lt 1 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            (Get-TestServerStat $server).inFlight | Should -BeGreaterOrEqual 1 -Because 'the run must be under way before it is interrupted'
            & kill "-$signal" $process.Id
            $process.WaitForExit(20000) | Should -BeTrue
            $process.ExitCode | Should -Be 3
            $entry = Get-Content $log | ConvertFrom-Json
            $entry.ErrorId | Should -Be 'Interrupted'
            $entry.Total | Should -Be 4 -Because 'the summary of what was done so far is logged'
            $entry.Succeeded | Should -Be 0
            Get-Content (Join-Path $TestDrive 'out.txt') -Raw | Should -BeLike '*Stopped after 0 of 4 images*Run the same command again to go on*'
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
        }
    }

    It 'stops the run itself, with exit 3, when a scheduler sends SIGTERM to the process the README''s launcher starts' -Skip:$IsWindows -Tag Slow {
        Reset-TestServer $server -Options @{ models = @('test'); latencyMs = 3000 }
        $launcher = Join-Path (Split-Path $nightly) 'Start-NightlyCaption.sh'
        $process = Start-Process -FilePath 'env' -ArgumentList @('--default-signal=INT', 'sh', $launcher, '-ConfigPath', $configPath, '-LogPath', $log, '-ModulePath', $env:VLMCAPTION_MODULE) -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'launcher-out.txt') -RedirectStandardError (Join-Path $TestDrive 'launcher-err.txt')
        try {
            $deadline = [datetime]::UtcNow.AddSeconds(180)
            while ((Get-TestServerStat $server).inFlight -lt 1 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            (Get-TestServerStat $server).inFlight | Should -BeGreaterOrEqual 1
            # The process the scheduler started is the run itself (exec), so this signal reaches it.
            & kill -TERM $process.Id
            $process.WaitForExit(30000) | Should -BeTrue
            $process.ExitCode | Should -Be 3
            $sent = (Get-TestServerStat $server).requests
            Start-Sleep -Seconds 4
            (Get-TestServerStat $server).requests | Should -Be $sent -Because 'nothing goes on captioning after the task was ended'
            (Get-Content $log | ConvertFrom-Json).ErrorId | Should -Be 'Interrupted'
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
        }
    }

    It 'exits 2 when the run cannot start' {
        Set-Content $configPath 'model: test'
        Invoke-FreshPwsh -Arguments '-NoProfile', '-File', $nightly, '-ConfigPath', $configPath, '-LogPath', $log, '-ModulePath', $env:VLMCAPTION_MODULE 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 2
        (Get-Content $log | ConvertFrom-Json).ErrorId | Should -BeLike 'InvalidConfig,*'
    }
}

Describe 'examples/schemas' {
    BeforeEach {
        Reset-TestServer $server
        $image = New-TestImage $server (Join-Path $TestDrive "$([guid]::NewGuid()).png") -Color green
    }

    It '<Name> is a schema that captions an image, rendered as its comment says' -ForEach @(
        @{ Name = 'tags-and-sentence.json'; Render = '{tags}. {sentence}'; Expected = 'green, tags_one. green sentence' }
        @{ Name = 'character-lora.json'; Render = '{scene.outfit}, {scene.pose}, {scene.framing}'; Expected = 'green outfit, green pose, close-up' }
        @{ Name = 'structured-prompt.json'; Render = ''; Expected = '{"summary":"green summary",*"text_in_image":"green text_in_image"}' }
    ) {
        $result = Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl -Model test -JsonSchema (Join-Path $examples "schemas/$Name") -Render $Render

        $result.Status | Should -Be 'Succeeded'
        $result.Caption | Should -BeLike $Expected
        (Get-TestServerRequest $server)[0].body.response_format.json_schema.schema.required.Count | Should -BeGreaterThan 1
        $result.Data | Should -Not -BeNullOrEmpty
    }
}
