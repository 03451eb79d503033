# Batch mode: a conversation of N prompts as N rounds through the reference server's Batch API (/v1/files,
# /v1/batches), or as request files run by someone else (-BatchFiles), with the live path's captions.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')

    # Three prompts; the retry rule matches only the blue images' final answers, so they take a fourth round.
    $chain = @'
system_prompt: You caption images for a training set.
prompts:
  - Describe the image.
  - Name its colours.
  - Write the final caption.
retry_rules:
  - rule_name: no_blue
    phrases: [blue]
    rejection_note: 'Write it again without: [phrases].'
skip_if_caption_exists: true
batch_poll_sec: 0.05
'@

    $single = "prompts: [Describe the image.]`nskip_if_caption_exists: true`nbatch_poll_sec: 0.05"

    function New-BatchSet([string] $Name, [int] $Count = 5, [string] $Extra = '', [string] $Chain = $chain) {
        $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive "$Name-$([guid]::NewGuid().ToString('N').Substring(0, 6))")
        $set = New-Item -ItemType Directory -Path (Join-Path $root 'set')
        foreach ($i in 1..$Count) {
            New-TestImage $server (Join-Path $set "b$i.png") -Width (40 + $i) -Color $(if ($i % 2) { 'red' } else { 'blue' }) | Out-Null
        }

        $config = Join-Path $root 'caption.yaml'
        Set-Content -LiteralPath $config -Value "base_url: $($server.BaseUrl)`nmodel: test`nbase_directory: set`n$Chain`n$Extra"
        [pscustomobject]@{ Root = $root.FullName; Set = $set.FullName; Config = $config; State = Join-Path $set.FullName '.vlmcaption-batch' }
    }

    function Get-Captions([string] $Folder) {
        $captions = [ordered]@{}
        Get-ChildItem -LiteralPath $Folder -Filter *.txt | Sort-Object Name | ForEach-Object { $captions[$_.Name] = Get-Content -LiteralPath $_.FullName -Raw }
        $captions
    }

    # What vLLM's run-batch does with a request file: each body to the chat endpoint, one output line per request.
    function Invoke-RequestFile([string] $Part) {
        $lines = foreach ($line in [IO.File]::ReadLines($Part)) {
            $request = $line | ConvertFrom-Json
            $response = Invoke-WebRequest -Method Post -Uri "$($server.BaseUrl)/chat/completions" -Body ($request.body | ConvertTo-Json -Depth 20 -Compress) -ContentType 'application/json' -SkipHttpErrorCheck
            @{ id = "vllm-$($request.custom_id)"; custom_id = $request.custom_id; response = @{ status_code = [int] $response.StatusCode; request_id = 'r'; body = ($response.Content | ConvertFrom-Json) }; error = $null } | ConvertTo-Json -Depth 20 -Compress
        }
        [IO.File]::WriteAllLines(($Part -replace '\.jsonl$', '.output.jsonl'), [string[]] $lines)
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Batch mode' {
    BeforeEach {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20 }
    }

    It 'captions a folder in rounds (three prompts and a retry rule) to the captions the live path writes' {
        $live = New-BatchSet 'live' -Extra 'stream: false'
        $summary = Invoke-VlmCaptionRun $live.Config
        $summary.Succeeded | Should -Be 5
        $liveRequests = @(Get-TestServerRequest $server).Count
        $liveRequests | Should -Be (5 * 3 + 2)

        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20 }
        $batch = New-BatchSet 'batch' -Extra 'batch: true'
        $storedBefore = (Get-TestServerStat $server).storedFiles
        $summary = Invoke-VlmCaptionRun $batch.Config -WarningVariable warnings
        $summary.Succeeded | Should -Be 5
        $summary.Failed | Should -Be 0
        $stats = Get-TestServerStat $server
        # Rounds 1-3 hold every image, round 4 the two blue ones the rule caught: four batches, one file each.
        $stats.batchesCreated | Should -Be 4
        $stats.filesUploaded | Should -Be 4
        $stats.storedFiles | Should -Be $storedBefore -Because 'each round''s input, output and error files are deleted from the provider once read'
        $warnings | Should -BeNullOrEmpty
        @(Get-TestServerRequest $server).Count | Should -Be $liveRequests
        $captions = Get-Captions $batch.Set
        $captions.Count | Should -Be 5
        $captions | ConvertTo-Json | Should -Be (Get-Captions $live.Set | ConvertTo-Json)
        # The retry's answer still says blue, so the third answer stays the caption, as live.
        $captions['b2.txt'] | Should -Match '^Blue PNG image, 42x48 pixels\. Turn 3\.'
        $captions['b1.txt'] | Should -Match '^Red PNG image, 41x48 pixels\. Turn 3\.'
        Test-Path -LiteralPath $batch.State | Should -BeFalse -Because 'a finished run leaves no state behind'

        # A second run finds every image captioned and submits nothing.
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20 }
        $again = Invoke-VlmCaptionRun $batch.Config
        $again.Skipped | Should -Be 5
        (Get-TestServerStat $server).batchesCreated | Should -Be 0
    }

    It 'sends the live path''s request bodies, unstreamed, with the limit and sampling fields' {
        $batch = New-BatchSet 'bodies' -Count 1 -Extra "batch: true`ntemperature: 0.4`nmax_tokens: 300"
        Invoke-VlmCaptionRun $batch.Config | Out-Null
        $requests = @(Get-TestServerRequest $server)
        $requests.Count | Should -Be 3
        foreach ($request in $requests) {
            $request.body.stream | Should -BeFalse
            $request.body.max_tokens | Should -Be 300
            $request.body.temperature | Should -Be 0.4
            $request.body.model | Should -Be 'test'
        }
        $requests[2].body.messages.Count | Should -Be 6
        $requests[2].body.messages[0].content | Should -Be 'You caption images for a training set.'
        $requests[2].body.messages[1].content[1].type | Should -Be 'image_url'
    }

    It 'survives a kill between rounds and goes on without submitting a finished round again' -Tag Slow {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 300 }
        $batch = New-BatchSet 'killed' -Count 4 -Extra 'batch: true'
        $runner = Join-Path $batch.Root 'run.ps1'
        Set-Content $runner "Import-Module '$env:VLMCAPTION_MODULE'; Invoke-VlmCaptionRun '$($batch.Config)' | Out-Null"
        $process = Start-FreshPwshFile $runner
        try {
            # Killed once round 2 is submitted: round 1 is done and its answers are on disk.
            $submitted = Join-Path $batch.State 'round-02/attempt-1/part-001.batch.json'
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            function Test-Submitted { (Test-Path -LiteralPath $submitted) -and (Get-Content -LiteralPath $submitted -Raw) -like '*batch_id*' }
            while (-not (Test-Submitted) -and -not $process.HasExited -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            Test-Submitted | Should -BeTrue
            $process.Kill()
            $process.WaitForExit()
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
        }

        (Get-TestServerStat $server).batchesCreated | Should -Be 2
        @(Get-ChildItem -LiteralPath $batch.Set -Filter *.txt).Count | Should -Be 0

        $output = Invoke-VlmCaptionRun $batch.Config -Verbose 4>&1
        $summary = $output | Where-Object { $_ -is [VlmCaption.RunSummary] }
        $going = $output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Going on*' }
        $going.Message | Should -BeLike "Going on with the batch run kept in*(4 images)*"
        $summary.Succeeded | Should -Be 4
        $stats = Get-TestServerStat $server
        # Round 2 was polled by its id, not sent again; rounds 3 and 4 (the two blue images) were new.
        $stats.batchesCreated | Should -Be 4
        @(Get-TestServerRequest $server).Count | Should -Be (4 * 3 + 2)
        @(Get-ChildItem -LiteralPath $batch.Set -Filter *.txt).Count | Should -Be 4
        Test-Path -LiteralPath $batch.State | Should -BeFalse
    }

    It 'learns from the error file what an OpenAI reasoning model refuses, as a live run learns it from the answers' {
        Reset-TestServer $server -Options @{ models = @('gpt-5-mini'); persona = 'openai-reasoning'; batchStepMs = 20 }
        $batch = New-BatchSet 'reasoning' -Count 3 -Chain $single -Extra "batch: true`ntemperature: 0.2"
        (Get-Content -LiteralPath $batch.Config) -replace '^model: test$', 'model: gpt-5-mini' | Set-Content -LiteralPath $batch.Config
        $summary = Invoke-VlmCaptionRun $batch.Config -WarningVariable warnings
        $summary.Succeeded | Should -Be 3
        $warnings -join ' ' | Should -BeLike '*refused*max_tokens*sent max_completion_tokens instead of max_tokens from now on*'
        $warnings -join ' ' | Should -BeLike '*temperature*sent no temperature*'
        # Refused for max_tokens, then for the temperature, then answered: three batches of the same three images.
        (Get-TestServerStat $server).batchesCreated | Should -Be 3
        $requests = @(Get-TestServerRequest $server)
        $requests.Count | Should -Be 9
        $requests[-1].body.max_completion_tokens | Should -Be 4096
        $requests[-1].body.PSObject.Properties.Name | Should -Not -Contain 'temperature'
    }

    It 'fails alone an image whose request the batch answered with an error; a 500 is sent again in the next batch' {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20; faults = @(@{ kind = 'status'; status = 400; imageSize = '42x48' }, @{ kind = 'status'; status = 500; imageSize = '43x48'; requests = @(3) }) }
        $batch = New-BatchSet 'one-fails' -Count 4 -Chain $single -Extra 'batch: true'
        $summary = Invoke-VlmCaptionRun $batch.Config -ErrorVariable failures -ErrorAction SilentlyContinue
        $summary.Succeeded | Should -Be 3
        $summary.Failed | Should -Be 1
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RequestFailed*'
        $failures[0].TargetObject | Should -BeLike '*b2.png'
        "$($failures[0])" | Should -BeLike '*HTTP 400*Scripted fault*'
        # b3's 500 went again in a second batch of its own.
        (Get-TestServerStat $server).batchesCreated | Should -Be 2
        (Get-Content -LiteralPath (Join-Path $batch.Set 'b3.txt') -Raw) | Should -Match '^Red PNG image, 43x48 pixels\. Turn 1\.'
    }

    It 'stops at once on SIGINT while a batch runs, and goes on from it without sending it again' -Tag Slow {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 1500 }
        $batch = New-BatchSet 'interrupted' -Count 2 -Chain $single -Extra 'batch: true'
        $runner = Join-Path $batch.Root 'run.ps1'
        Set-Content $runner "Import-Module '$env:VLMCAPTION_MODULE'; Invoke-VlmCaptionRun '$($batch.Config)' | Out-Null"
        $exe = [Environment]::ProcessPath
        $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        # Through env, so that SIGINT is handled even when this process inherited it ignored.
        $process = Start-Process -FilePath 'env' -ArgumentList (@('--default-signal=INT', $exe) + $prefix + @('-NoProfile', '-NonInteractive', '-File', $runner)) -PassThru
        try {
            $submitted = Join-Path $batch.State 'round-01/attempt-1/part-001.batch.json'
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while (-not ((Test-Path -LiteralPath $submitted) -and (Get-Content -LiteralPath $submitted -Raw) -like '*batch_id*') -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            $clock = [Diagnostics.Stopwatch]::StartNew()
            & kill -INT $process.Id
            $process.WaitForExit(20000) | Should -BeTrue
            Write-Host "    stopped $([int]$clock.Elapsed.TotalMilliseconds) ms after SIGINT"
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
        }

        Test-Path -LiteralPath $submitted | Should -BeTrue -Because 'the state is kept for the next run'
        $summary = Invoke-VlmCaptionRun $batch.Config
        $summary.Succeeded | Should -Be 2
        (Get-TestServerStat $server).batchesCreated | Should -Be 1
        @(Get-TestServerRequest $server).Count | Should -Be 2
    }

    It 'sends again the requests of a batch someone cancelled, and says so' -Tag Slow {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 1000 }
        $batch = New-BatchSet 'cancelled' -Count 2 -Chain $single -Extra 'batch: true'
        $runner = Join-Path $batch.Root 'run.ps1'
        $log = Join-Path $batch.Root 'warnings.txt'
        Set-Content $runner "Import-Module '$env:VLMCAPTION_MODULE'; `$s = Invoke-VlmCaptionRun '$($batch.Config)' -WarningVariable w -WarningAction SilentlyContinue; Set-Content '$log' (@(`$w) + `"succeeded `$(`$s.Succeeded)`")"
        $process = Start-FreshPwshFile $runner
        try {
            # Cancelled from outside (a dashboard, another tool) while it is validated.
            $submitted = Join-Path $batch.State 'round-01/attempt-1/part-001.batch.json'
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while (-not ((Test-Path -LiteralPath $submitted) -and (Get-Content -LiteralPath $submitted -Raw) -like '*batch_id*') -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            $id = (Get-Content -LiteralPath $submitted -Raw | ConvertFrom-Json).batch_id
            (Invoke-RestMethod -Method Post -Uri "$($server.BaseUrl)/batches/$id/cancel").status | Should -Be 'cancelling'
            $process.WaitForExit(60000) | Should -BeTrue
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
        }

        $said = Get-Content -LiteralPath $log -Raw
        $said | Should -BeLike "*batch $id cancelled with 0 of 2 requests answered*sent again*"
        $said | Should -BeLike '*succeeded 2*'
        (Get-TestServerStat $server).batchesCreated | Should -Be 2
        @(Get-ChildItem -LiteralPath $batch.Set -Filter *.txt).Count | Should -Be 2
    }

    It 'writes jsonl and several captions an image, as the live path does' {
        $batch = New-BatchSet 'jsonl' -Count 2 -Chain $single -Extra "batch: true`noutput_format: jsonl`ncaptions_per_image: 2`ntemperature: 0.5"
        $summary = Invoke-VlmCaptionRun $batch.Config
        $summary.Succeeded | Should -Be 2
        foreach ($name in 'b1', 'b2') {
            $lines = @(Get-Content -LiteralPath (Join-Path $batch.Set "$name.jsonl") | ConvertFrom-Json)
            $lines.Count | Should -Be 2
            $lines.model | Sort-Object -Unique | Should -Be 'test'
            $lines[0].text | Should -Not -Be $lines[1].text -Because 'two independent conversations, sampled'
            $lines[0].text | Should -Match 'Turn 1\. .* Sample \d+\.$'
        }
        (Get-TestServerStat $server).batchesCreated | Should -Be 1
        @(Get-TestServerRequest $server).Count | Should -Be 4
    }

    It 'splits a round past the request limit of one file' {
        $batch = New-BatchSet 'split' -Chain $single -Extra "batch: true`nbatch_max_requests: 2"
        $summary = Invoke-VlmCaptionRun $batch.Config
        $summary.Succeeded | Should -Be 5
        (Get-TestServerStat $server).batchesCreated | Should -Be 3
        @(Get-ChildItem -LiteralPath $batch.Set -Filter *.txt).Count | Should -Be 5
    }

    It 'splits a round past the byte limit of one file, each file within it' {
        $batch = New-BatchSet 'bytes' -Chain $single -Extra 'batch_max_bytes: 2000'
        $folder = Join-Path $batch.Root 'requests'
        (Invoke-VlmCaptionRun $batch.Config -BatchFiles $folder -WarningAction SilentlyContinue).Pending | Should -Be 5
        $parts = @(Get-ChildItem -LiteralPath $folder -Recurse -Filter 'part-*.jsonl')
        $parts.Count | Should -BeGreaterThan 1
        $parts | ForEach-Object { $_.Length | Should -BeLessOrEqual 2000 }
        ($parts | ForEach-Object { @([IO.File]::ReadAllLines($_.FullName)).Count } | Measure-Object -Sum).Sum | Should -Be 5
        $parts | ForEach-Object { Invoke-RequestFile $_.FullName }
        $summary = Invoke-VlmCaptionRun $batch.Config -BatchFiles $folder
        $summary.Succeeded | Should -Be 5
        $summary.Pending | Should -Be 0
    }

    It 'fails alone an image whose request is larger than a whole file may be' {
        $batch = New-BatchSet 'large' -Count 2 -Chain $single -Extra "batch: true`nbatch_max_bytes: 2000"
        New-TestImage $server (Join-Path $batch.Set 'b9.jpg') -Width 1200 -Height 900 -Color green -Format jpeg | Out-Null
        $summary = Invoke-VlmCaptionRun $batch.Config -ErrorVariable failures -ErrorAction SilentlyContinue
        $summary.Succeeded | Should -Be 2
        $summary.Failed | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RequestTooLarge*'
        "$($failures[0])" | Should -BeLike '*b9.jpg*more than a batch file may hold*'
    }

    It 'fails alone an image that cannot be prepared, before the first round, and never sends it' {
        $batch = New-BatchSet 'broken' -Count 2 -Chain $single -Extra 'batch: true'
        [IO.File]::WriteAllBytes((Join-Path $batch.Set 'b0.png'), [byte[]] (1..200))
        $summary = Invoke-VlmCaptionRun $batch.Config -ErrorVariable failures -ErrorAction SilentlyContinue
        $summary.Succeeded | Should -Be 2
        $summary.Failed | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'ImageDecodeFailed*'
        $failures[0].TargetObject | Should -BeLike '*b0.png'
        @(Get-TestServerRequest $server).Count | Should -Be 2
    }

    It 'sends again what an expired batch left undone, and says so' {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20; batchFault = 'expire' }
        $batch = New-BatchSet 'expired' -Count 4 -Chain $single -Extra 'batch: true'
        $summary = Invoke-VlmCaptionRun $batch.Config -WarningVariable warnings -WarningAction SilentlyContinue -ErrorVariable failures -ErrorAction SilentlyContinue
        # Each batch expires halfway: of 4 requests 2 are answered, of the 2 sent again 1, and the last one
        # expires unanswered in the four batches that answer nothing (max_retries 3) before it fails.
        ($warnings -join "`n") | Should -BeLike '*batch_* expired with 2 of 4 requests answered*sent again*'
        (Get-TestServerStat $server).batchesCreated | Should -Be 6
        $summary.Succeeded | Should -Be 3
        $summary.Failed | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'BatchExpired*'
        @(Get-ChildItem -LiteralPath $batch.Set -Filter *.txt).Count | Should -Be $summary.Succeeded
    }

    It 'goes on past a provider''s limit of batches at once: the batches it fails go again while others get answers' -Tag Slow {
        # Each state lasts 500 ms, so the first batch is surely still running when the next two are created, even
        # on a machine so busy that creating a batch takes a few hundred milliseconds (20 ms made this flaky).
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 500; batchFault = 'limit' }
        $batch = New-BatchSet 'limit' -Chain $single -Extra "batch: true`nbatch_max_requests: 2`nmax_retries: 1"
        $summary = Invoke-VlmCaptionRun $batch.Config -WarningVariable warnings -WarningAction SilentlyContinue
        $summary.Succeeded | Should -Be 5
        # Three files; only the first runs, the others fail; then two files of the three left, then one.
        (Get-TestServerStat $server).batchesCreated | Should -Be 6
        ($warnings -join "`n") | Should -BeLike '*failed: token_limit_exceeded: Enqueued token limit reached for test*sent again*'
        @(Get-ChildItem -LiteralPath $batch.Set -Filter *.txt).Count | Should -Be 5
    }

    It 'reports a failed batch: sent again, and once the retries are spent each image fails with the batch''s reason' {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20; batchFault = 'fail' }
        $batch = New-BatchSet 'failed' -Count 3 -Chain $single -Extra "batch: true`nmax_retries: 1"
        $summary = Invoke-VlmCaptionRun $batch.Config -ErrorVariable failures -ErrorAction SilentlyContinue -WarningVariable warnings -WarningAction SilentlyContinue
        $summary.Failed | Should -Be 3
        $summary.Succeeded | Should -Be 0
        (Get-TestServerStat $server).batchesCreated | Should -Be 2
        @($warnings | Where-Object { "$_" -like '*failed: scripted_fault*' }).Count | Should -Be 2
        $failures.Count | Should -Be 3
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'BatchFailed*'
        "$($failures[0])" | Should -BeLike '*b1.png*failed: scripted_fault: Scripted fault*'
        @(Get-ChildItem -LiteralPath $batch.Set -Filter *.txt).Count | Should -Be 0
        Test-Path -LiteralPath $batch.State | Should -BeFalse -Because 'the failures are reported, and the next run tries those images again'
    }

    It 'refuses to go on with other settings than the run started with, before any request' {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20 }
        $batch = New-BatchSet 'changed' -Count 2 -Extra "batch_files: files"
        (Invoke-VlmCaptionRun $batch.Config -WarningAction SilentlyContinue).Pending | Should -Be 2
        (Get-Content -LiteralPath $batch.Config -Raw) -replace 'Name its colours\.', 'Name its shapes.' | Set-Content -LiteralPath $batch.Config
        { Invoke-VlmCaptionRun $batch.Config } | Should -Throw -ExpectedMessage "*started with other settings (changed: prompts)*remove the folder*"
        @(Get-TestServerRequest $server -IncludeModels).Count | Should -Be 0
    }

    It 'writes request files for vLLM''s run-batch and reads their outputs back, round by round (-BatchFiles)' {
        $live = New-BatchSet 'files-live' -Count 3 -Extra 'stream: false'
        Invoke-VlmCaptionRun $live.Config | Out-Null
        Reset-TestServer $server -Options @{ models = @('test') }

        $batch = New-BatchSet 'files' -Count 3
        $folder = Join-Path $batch.Root 'requests'
        $rounds = 0
        $written = 0
        do {
            $summary = Invoke-VlmCaptionRun $batch.Config -BatchFiles $folder -WarningVariable warnings -WarningAction SilentlyContinue
            # Each run writes the images its round finished: the red ones after round 3, the blue one after round 4.
            $written += $summary.Succeeded
            if ($summary.Pending -gt 0) {
                $rounds++
                ($warnings -join "`n") | Should -BeLike '*request file(s) wait to be run*run_batch -i*'
                $parts = @(Get-ChildItem -LiteralPath $folder -Recurse -Filter 'part-*.jsonl' | Where-Object { $_.Name -notlike '*.output.jsonl' -and -not (Test-Path ($_.FullName -replace '\.jsonl$', '.output.jsonl')) })
                $parts.Count | Should -Be 1
                Invoke-RequestFile $parts[0].FullName
            }
        } while ($summary.Pending -gt 0 -and $rounds -lt 10)

        $rounds | Should -Be 4
        $written | Should -Be 3
        (Get-TestServerStat $server).batchesCreated | Should -Be 0
        Get-Captions $batch.Set | ConvertTo-Json | Should -Be (Get-Captions $live.Set | ConvertTo-Json)
        @(Get-ChildItem -LiteralPath $folder -Recurse -File).Count | Should -Be 0 -Because 'the run removes its own files once it is finished'
    }

    It 'refuses a second run on a batch folder another run holds' {
        $batch = New-BatchSet 'in-use' -Count 1 -Chain $single -Extra 'batch: true'
        New-Item -ItemType Directory -Path $batch.State | Out-Null
        Set-Content -LiteralPath (Join-Path $batch.State 'run.lock') -Value ''
        $held = [IO.File]::Open((Join-Path $batch.State 'run.lock'), 'Open', 'Read', 'None')
        try {
            { Invoke-VlmCaptionRun $batch.Config } | Should -Throw -ErrorId 'BatchInUse*'
        }
        finally {
            $held.Dispose()
        }

        (Get-TestServerStat $server).batchesCreated | Should -Be 0
        (Invoke-VlmCaptionRun $batch.Config).Succeeded | Should -Be 1
    }

    It 'keeps its state with the captions when the image share is read-only, and says so when there is nowhere to keep it' -Skip:($IsWindows) {
        $batch = New-BatchSet 'read-only' -Count 2 -Chain $single -Extra 'batch: true'
        $share = $batch.Set
        $readOnly = Set-ReadOnlyFolder $share
        try {
            if (-not $readOnly) { Set-ItResult -Skipped -Because 'the image folder could not be made read-only here'; return }
            { Invoke-VlmCaptionRun $batch.Config } | Should -Throw -ExpectedMessage "*batch run's folder*could not be written*set output_directory (-Destination)*"
            (Get-TestServerStat $server).batchesCreated | Should -Be 0
            $summary = Invoke-VlmCaptionRun $batch.Config -Destination (Join-Path $batch.Root 'captions')
            $summary.Succeeded | Should -Be 2
            @(Get-ChildItem -LiteralPath (Join-Path $batch.Root 'captions') -Filter *.txt).Count | Should -Be 2
        }
        finally {
            if ($readOnly) { Reset-ReadOnlyFolder $share }
        }
    }

    It 'captions live with -Batch:$false, whatever caption.yaml says' -ForEach @(
        @{ Key = 'batch: true' }
        @{ Key = 'batch_files: requests' }
    ) {
        $batch = New-BatchSet 'live-anyway' -Count 2 -Chain $single -Extra $Key
        $summary = Invoke-VlmCaptionRun $batch.Config -Batch:$false
        $summary.Succeeded | Should -Be 2
        $summary.Pending | Should -Be 0
        (Get-TestServerStat $server).batchesCreated | Should -Be 0
        @(Get-TestServerRequest $server).Count | Should -Be 2
        Test-Path -LiteralPath (Join-Path $batch.Root 'requests') | Should -BeFalse
    }

    It 'says that <Persona> has no Batch API, before any image is sent' -ForEach @(
        @{ Persona = 'lmstudio'; Said = '*has no Batch API*Unexpected endpoint or method. (GET /v1/batches)*-BatchFiles*' }
        @{ Persona = 'ollama'; Said = '*has no Batch API: it answered HTTP 404*-BatchFiles*' }
    ) {
        Reset-TestServer $server -Options @{ models = @('test'); persona = $Persona }
        $batch = New-BatchSet "no-batches-$Persona" -Count 2 -Chain $single -Extra 'batch: true'
        { Invoke-VlmCaptionRun $batch.Config } | Should -Throw -ErrorId 'BatchApiMissing*' -ExpectedMessage $Said
        @(Get-TestServerRequest $server).Count | Should -Be 0
        Test-Path -LiteralPath $batch.State | Should -BeFalse -Because 'nothing is prepared or kept for a server without the API'

    }

    It 'keeps each shard''s state apart, so machines sharing a dataset each caption their own part in batch rounds' {
        $batch = New-BatchSet 'shards' -Count 8 -Chain $single -Extra 'batch: true'
        $first = Invoke-VlmCaptionRun $batch.Config -Shard 1/2
        Test-Path -LiteralPath (Join-Path $batch.Set '.vlmcaption-batch-1-of-2') | Should -BeFalse -Because 'a finished shard leaves no state'
        $second = Invoke-VlmCaptionRun $batch.Config -Shard 2/2
        ($first.Succeeded + $second.Succeeded) | Should -Be 8
        $first.Succeeded | Should -BeGreaterThan 0
        $second.Succeeded | Should -BeGreaterThan 0
        @(Get-ChildItem -LiteralPath $batch.Set -Filter *.txt).Count | Should -Be 8
        @(Get-TestServerRequest $server).Count | Should -Be 8

        # One request-file folder for two shards is refused rather than mixed.
        $files = New-BatchSet 'shard-files' -Count 4 -Chain $single
        $folder = Join-Path $files.Root 'requests'
        Invoke-VlmCaptionRun $files.Config -Shard 1/2 -BatchFiles $folder -WarningAction SilentlyContinue | Out-Null
        { Invoke-VlmCaptionRun $files.Config -Shard 2/2 -BatchFiles $folder } | Should -Throw -ExpectedMessage '*started with other settings (changed: shard)*'
    }

    It 'names the model itself with -BatchFiles, since no server is asked' {
        $batch = New-BatchSet 'nomodel' -Count 1
        (Get-Content -LiteralPath $batch.Config) -notmatch '^model:' | Set-Content -LiteralPath $batch.Config
        { Invoke-VlmCaptionRun $batch.Config -BatchFiles (Join-Path $batch.Root 'requests') } | Should -Throw -ExpectedMessage '*Request files name their model*-Model*'
    }

    It 'leaves the state folder out of the images it walks, and a -WhatIf run writes nothing' {
        $batch = New-BatchSet 'whatif' -Count 2 -Extra "batch: true`nrecursive: true"
        Invoke-VlmCaptionRun $batch.Config -WhatIf
        Test-Path -LiteralPath $batch.State | Should -BeFalse
        (Get-TestServerStat $server).batchesCreated | Should -Be 0
    }
}
