# Batch rounds against the provider as OpenAI documents it, faults included: 429 (with Retry-After) and 500 on
# every route of the Batch API, output lines in an order of their own (the reference server reverses them).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')

    function New-FaultSet([int] $Count = 3) {
        $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid().ToString('N').Substring(0, 8)))
        $set = New-Item -ItemType Directory -Path (Join-Path $root 'set')
        foreach ($i in 1..$Count) { New-TestImage $server (Join-Path $set "f$i.png") -Width (30 + $i) | Out-Null }
        $config = Join-Path $root 'caption.yaml'
        Set-Content -LiteralPath $config -Value "base_url: $($server.BaseUrl)`nmodel: test`nbase_directory: set`nprompts: [Describe the image.]`nskip_if_caption_exists: true`nbatch: true`nbatch_poll_sec: 0.05"
        [pscustomobject]@{ Set = $set.FullName; Config = $config; Files = Join-Path $root 'requests' }
    }

    # What vLLM's run-batch does with a request file: each body to the chat endpoint, one output line a request.
    function Invoke-RequestFile([string] $Part) {
        $lines = foreach ($line in [IO.File]::ReadLines($Part)) {
            $request = $line | ConvertFrom-Json
            $response = Invoke-WebRequest -Method Post -Uri "$($server.BaseUrl)/chat/completions" -Body ($request.body | ConvertTo-Json -Depth 20 -Compress) -ContentType 'application/json'
            @{ id = "vllm-$($request.custom_id)"; custom_id = $request.custom_id; response = @{ status_code = 200; request_id = 'r'; body = ($response.Content | ConvertFrom-Json) }; error = $null } | ConvertTo-Json -Depth 20 -Compress
        }
        [IO.File]::WriteAllLines(($Part -replace '\.jsonl$', '.output.jsonl'), [string[]] $lines)
    }

    function Get-Part([string] $Folder) {
        Get-ChildItem -LiteralPath $Folder -Recurse -Filter 'part-*.jsonl' | Where-Object Name -NotLike '*.output.jsonl' | Select-Object -First 1
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Batch rounds through a provider that fails now and then' {
    It 'survives a 500 and a 429 with Retry-After on every route, and names the request id' -Tag Slow {
        $faults = foreach ($route in 'list', 'upload', 'create', 'poll', 'download', 'delete') {
            @{ route = $route; status = 500; times = 1 }
        }
        $faults += @{ route = 'poll'; status = 429; retryAfter = 1; times = 1 }
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20; batchRouteFaults = @($faults) }
        $set = New-FaultSet
        $out = Invoke-VlmCaptionRun $set.Config -Verbose 4>&1
        $summary = $out | Where-Object { $_ -is [VlmCaption.RunSummary] }
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $summary.Succeeded | Should -Be 3
        @(Get-ChildItem $set.Set -Filter *.txt).Count | Should -Be 3
        (Get-TestServerStat $server).batchRouteFaults | Should -Be 7
        ($verbose -match 'HTTP 500.*request id req_fault.*Retry 1').Count | Should -BeGreaterOrEqual 5
        ($verbose -match 'HTTP 429').Count | Should -Be 1
    }
}

Describe 'Batch outputs that cannot be trusted' {
    BeforeEach {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20 }
    }

    It 'passes over the output of another dataset''s run: request ids are the run''s own' {
        $a = New-FaultSet
        $b = New-FaultSet
        Invoke-VlmCaptionRun $a.Config -BatchFiles $a.Files -WarningAction SilentlyContinue | Out-Null
        Invoke-VlmCaptionRun $b.Config -BatchFiles $b.Files -WarningAction SilentlyContinue | Out-Null
        $partA = Get-Part $a.Files
        $partB = Get-Part $b.Files
        $idsA = @(Get-Content -LiteralPath $partA.FullName | ConvertFrom-Json | ForEach-Object custom_id)
        $idsB = @(Get-Content -LiteralPath $partB.FullName | ConvertFrom-Json | ForEach-Object custom_id)
        @($idsA | Where-Object { $_ -in $idsB }) | Should -BeNullOrEmpty
        Invoke-RequestFile $partA.FullName
        # The provider (or a hand) gives B's batch the output of A's.
        Copy-Item ($partA.FullName -replace '\.jsonl$', '.output.jsonl') ($partB.FullName -replace '\.jsonl$', '.output.jsonl')
        Invoke-VlmCaptionRun $b.Config -BatchFiles $b.Files -WarningVariable w -WarningAction SilentlyContinue | Out-Null
        "$w" | Should -BeLike '*3 line(s) answering requests it did not send*'
        @(Get-ChildItem -LiteralPath $b.Set -Filter *.txt).Count | Should -Be 0
    }

    It 'fails alone an image whose answer line is over the limit, writes the others, and a rerun goes on' {
        $c = New-FaultSet
        Invoke-VlmCaptionRun $c.Config -BatchFiles $c.Files -WarningAction SilentlyContinue | Out-Null
        $part = Get-Part $c.Files
        Invoke-RequestFile $part.FullName
        $output = $part.FullName -replace '\.jsonl$', '.output.jsonl'
        $lines = [IO.File]::ReadAllLines($output)
        $id = ($lines[0] | ConvertFrom-Json).custom_id
        # A 20 MB answer, past max_answer_bytes (8 MiB).
        $lines[0] = '{"id":"x","custom_id":"' + $id + '","response":{"status_code":200,"request_id":"r","body":{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"' + ('a' * 20MB) + '"}}]}},"error":null}'
        [IO.File]::WriteAllLines($output, $lines)
        $summary = Invoke-VlmCaptionRun $c.Config -BatchFiles $c.Files -ErrorVariable e -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $summary.Succeeded | Should -Be 2
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'AnswerTooLarge*'
        @(Get-ChildItem -LiteralPath $c.Set -Filter *.txt).Count | Should -Be 2
        { Invoke-VlmCaptionRun $c.Config -BatchFiles $c.Files -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null } | Should -Not -Throw
    }
}

Describe 'Batch outputs past their bounds, expired, or of another batch' {
    It 'reads a 600 MB output file for 3 requests within its bound: the answers are kept, the rest is not fetched' {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20; batchOutputPadBytes = 600MB }
        $set = New-FaultSet
        $summary = Invoke-VlmCaptionRun $set.Config -WarningVariable w -WarningAction SilentlyContinue
        $summary.Succeeded | Should -Be 3
        "$w" | Should -BeLike '*is longer than * bytes, more than its 3 answers can be*'
        # 3 answers of at most max_answer_bytes (8 MiB) and 64 KiB each, and 1 MiB: the bound is about 26 MB.
        $read = (Get-TestServerStat $server).downloadedBytes
        $read | Should -BeLessThan 100MB -Because 'the download stops at its bound instead of reading 600 MB'
        Write-Host "    the server handed over $([math]::Round($read / 1MB)) MB of the 600 MB output before the client closed the download"
    }

    It 'takes nothing from a batch whose status names another input file, and fails its images with the reason' {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20; batchFault = 'otherInput' }
        $set = New-FaultSet -Count 2
        Add-Content -LiteralPath $set.Config -Value 'max_retries: 1'
        $summary = Invoke-VlmCaptionRun $set.Config -WarningVariable w -WarningAction SilentlyContinue -ErrorVariable e -ErrorAction SilentlyContinue
        $summary.Succeeded | Should -Be 0
        "$w" | Should -BeLike '*runs file file_of_another_batch, not the file file_* uploaded for it*'
        $e.Count | Should -Be 2
        $e[0].FullyQualifiedErrorId | Should -BeLike 'BatchFailed*'
        @(Get-ChildItem -LiteralPath $set.Set -Filter *.txt).Count | Should -Be 0
    }

    It 'sends again the requests whose output file expired before a stopped run came back for it' -Tag Slow {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 300; batchOutputExpiresMs = 2500 }
        $set = New-FaultSet -Count 2
        $state = Join-Path $set.Set '.vlmcaption-batch'
        $ps = [powershell]::Create()
        $null = $ps.AddScript({ param($Module, $Config) Import-Module $Module; Invoke-VlmCaptionRun $Config -WarningAction SilentlyContinue }).AddArgument($env:VLMCAPTION_MODULE).AddArgument($set.Config)
        $handle = $ps.BeginInvoke()
        $submitted = Join-Path $state 'round-01/attempt-1/part-001.batch.json'
        $deadline = [datetime]::UtcNow.AddSeconds(30)
        while (-not ((Test-Path -LiteralPath $submitted) -and (Get-Content -LiteralPath $submitted -Raw) -like '*batch_id*') -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $ps.Stop()
        $handle.IsCompleted | Should -BeTrue
        $ps.Dispose()
        # The batch ends (about 1 s) and its output file expires 2.5 s after it is made.
        Start-Sleep -Seconds 5
        $summary = Invoke-VlmCaptionRun $set.Config -WarningVariable w -WarningAction SilentlyContinue
        "$w" | Should -BeLike '*is no longer stored at*HTTP 404*sent again*'
        $summary.Succeeded | Should -Be 2
        (Get-TestServerStat $server).batchesCreated | Should -Be 2
        @(Get-ChildItem -LiteralPath $set.Set -Filter *.txt).Count | Should -Be 2
    }

    It 'shows vLLM''s nested error message and the line''s request id' {
        Reset-TestServer $server -Options @{ models = @('test') }
        $set = New-FaultSet -Count 1
        Invoke-VlmCaptionRun $set.Config -BatchFiles $set.Files -WarningAction SilentlyContinue | Out-Null
        $part = Get-Part $set.Files
        $id = (Get-Content -LiteralPath $part.FullName -TotalCount 1 | ConvertFrom-Json).custom_id
        # vllm/entrypoints/openai/run_batch.py (run_request): an ErrorResponse becomes the line's error, whole.
        $line = @{ id = 'vllm-1'; custom_id = $id; response = @{ status_code = 400; request_id = 'vllm-batch-42'; body = $null }; error = @{ error = @{ message = 'This model''s maximum context length is 4096 tokens.'; type = 'BadRequestError'; param = $null; code = 400 } } } | ConvertTo-Json -Depth 5 -Compress
        Set-Content -LiteralPath ($part.FullName -replace '\.jsonl$', '.output.jsonl') -Value $line
        Invoke-VlmCaptionRun $set.Config -BatchFiles $set.Files -ErrorVariable e -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null
        $e.Count | Should -Be 1
        $e[0].Exception.Message | Should -BeLike '*maximum context length is 4096 tokens*request id vllm-batch-42*'
    }
}

Describe 'A batch state folder that cannot be trusted' {
    BeforeAll {
        # A run of request files whose outputs are not there yet: its state folder, to tamper with.
        function New-WaitingRun {
            Reset-TestServer $server -Options @{ models = @('test') }
            $set = New-FaultSet -Count 2
            Invoke-VlmCaptionRun $set.Config -BatchFiles $set.Files -WarningAction SilentlyContinue | Out-Null
            $outside = Join-Path (Split-Path $set.Set) 'outside.txt'
            Set-Content -LiteralPath $outside -Value 'not to be touched'
            $set | Add-Member -PassThru -NotePropertyName Outside -NotePropertyValue $outside
        }

        function Invoke-Bounded([string] $Config, [string] $Files, [int] $Seconds = 30) {
            # A hang would stop the whole suite: the run gets a time bound, and a run past it is stopped.
            $ps = [powershell]::Create()
            $null = $ps.AddScript({ param($Module, $Config, $Files)
                    Import-Module $Module
                    $summary = Invoke-VlmCaptionRun $Config -BatchFiles $Files -ErrorVariable e -ErrorAction SilentlyContinue -WarningVariable w -WarningAction SilentlyContinue
                    [pscustomobject]@{ Summary = $summary; Errors = @($e); Warnings = @($w) }
                }).AddArgument($env:VLMCAPTION_MODULE).AddArgument($Config).AddArgument($Files)
            $handle = $ps.BeginInvoke()
            $finished = $handle.AsyncWaitHandle.WaitOne([timespan]::FromSeconds($Seconds))
            if (-not $finished) { $ps.Stop() }
            $result = if ($finished) { try { $ps.EndInvoke($handle) | Select-Object -Last 1 } catch { [pscustomobject]@{ Summary = $null; Errors = @($_.Exception.InnerException.ErrorRecord ?? $_); Warnings = @() } } }
            $ps.Dispose()
            [pscustomobject]@{ Finished = $finished; Result = $result }
        }
    }

    It 'refuses a state file replaced by a link (<Name>), and the file the link names is untouched' -Skip:($IsWindows) -ForEach @(
        @{ Name = 'answers.tmp' }
        @{ Name = 'reported.log' }
        @{ Name = 'round-01' }
    ) {
        $run = New-WaitingRun
        $entry = Join-Path $run.Files $Name
        if (Test-Path -LiteralPath $entry) { Remove-Item -LiteralPath $entry -Recurse -Force }
        New-Item -ItemType SymbolicLink -Path $entry -Target $run.Outside | Out-Null
        { Invoke-VlmCaptionRun $run.Config -BatchFiles $run.Files -WarningAction SilentlyContinue } | Should -Throw -ErrorId 'BatchStateInvalid*' -ExpectedMessage "*'$entry' is a symbolic link*"
        Get-Content -LiteralPath $run.Outside -Raw | Should -Be "not to be touched$([Environment]::NewLine)"
    }

    It 'refuses a state folder that is itself a link' -Skip:($IsWindows) {
        $run = New-WaitingRun
        $moved = "$($run.Files)-real"
        Move-Item -LiteralPath $run.Files -Destination $moved
        New-Item -ItemType SymbolicLink -Path $run.Files -Target $moved | Out-Null
        { Invoke-VlmCaptionRun $run.Config -BatchFiles $run.Files -WarningAction SilentlyContinue } | Should -Throw -ErrorId 'BatchStateInvalid*' -ExpectedMessage '*is a symbolic link*'
    }

    It 'refuses an image list edited to name an image outside base_directory, and writes nothing beside it' {
        $run = New-WaitingRun
        $victim = Join-Path (Split-Path $run.Set) 'victim.png'
        Copy-Item -LiteralPath (Get-ChildItem -LiteralPath $run.Set -Filter *.png | Select-Object -First 1).FullName -Destination $victim
        $list = Join-Path $run.Files 'images.jsonl'
        $lines = [IO.File]::ReadAllLines($list)
        $first = $lines[0] | ConvertFrom-Json
        $first.path = $victim
        $lines[0] = $first | ConvertTo-Json -Compress -Depth 5
        [IO.File]::WriteAllLines($list, $lines)
        Invoke-RequestFile (Get-Part $run.Files).FullName
        { Invoke-VlmCaptionRun $run.Config -BatchFiles $run.Files -WarningAction SilentlyContinue } | Should -Throw -ErrorId 'BatchStateInvalid*' -ExpectedMessage '*line 1 lists*not under base_directory*'
        Test-Path -LiteralPath ([IO.Path]::ChangeExtension($victim, '.txt')) | Should -BeFalse
        @(Get-ChildItem -LiteralPath $run.Set -Filter *.txt).Count | Should -Be 0
    }

    It 'refuses a run-id that is not one, and a FIFO in place of the lock' -Skip:($IsWindows) {
        $run = New-WaitingRun
        Set-Content -LiteralPath (Join-Path $run.Files 'run-id') -Value '../../etc'
        { Invoke-VlmCaptionRun $run.Config -BatchFiles $run.Files -WarningAction SilentlyContinue } | Should -Throw -ErrorId 'BatchStateInvalid*' -ExpectedMessage '*run-id* is not a run id*'
        $run = New-WaitingRun
        $lock = Join-Path $run.Files 'run.lock'
        Remove-Item -LiteralPath $lock
        & mkfifo $lock
        $outcome = Invoke-Bounded $run.Config $run.Files
        $outcome.Finished | Should -BeTrue -Because 'a FIFO is never opened in a way that waits for a writer'
        "$($outcome.Result.Errors)" | Should -BeLike '*run.lock* is not a regular file*'
    }

    It 'does not wait on a FIFO put in place of an output file (-BatchFiles) or of reported.log, and says what is wrong' -Skip:($IsWindows) {
        $run = New-WaitingRun
        $part = Get-Part $run.Files
        & mkfifo ($part.FullName -replace '\.jsonl$', '.output.jsonl')
        & mkfifo (Join-Path $run.Files 'reported.log')
        $outcome = Invoke-Bounded $run.Config $run.Files
        $outcome.Finished | Should -BeTrue -Because 'neither FIFO is opened'
        "$($outcome.Result.Warnings)" | Should -BeLike '*output.jsonl* is empty or not a regular file*'
        @(Get-ChildItem -LiteralPath $run.Set -Filter *.txt).Count | Should -Be 0
    }
}

Describe 'Stopping a batch run: what runs on at the provider, and cancelling it' {
    It 'names the running batches after SIGINT, refuses other settings naming them, and -CancelBatch cancels them' -Skip:($IsWindows) -Tag Slow {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 1500 }
        $set = New-FaultSet -Count 2
        $root = Split-Path $set.Set
        $runner = Join-Path $root 'run.ps1'
        Set-Content $runner "Import-Module '$env:VLMCAPTION_MODULE'; Invoke-VlmCaptionRun '$($set.Config)' | Out-Null"
        $exe = [Environment]::ProcessPath
        $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        $stdout = Join-Path $root 'stdout.txt'
        $process = Start-Process -FilePath 'env' -ArgumentList (@('--default-signal=INT', $exe) + $prefix + @('-NoProfile', '-NonInteractive', '-File', $runner)) -RedirectStandardOutput $stdout -RedirectStandardError (Join-Path $root 'stderr.txt') -PassThru
        $submitted = Join-Path $set.Set '.vlmcaption-batch/round-01/attempt-1/part-001.batch.json'
        try {
            $deadline = [datetime]::UtcNow.AddSeconds(60)
            while (-not ((Test-Path -LiteralPath $submitted) -and (Get-Content -LiteralPath $submitted -Raw) -like '*batch_id*') -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            & kill -INT $process.Id
            $process.WaitForExit(20000) | Should -BeTrue
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
        }

        $id = (Get-Content -LiteralPath $submitted -Raw | ConvertFrom-Json).batch_id
        Get-Content -LiteralPath $stdout -Raw | Should -BeLike "*Batches $id run on at*-CancelBatch*"

        Add-Content -LiteralPath $set.Config -Value 'system_prompt: Other.'
        { Invoke-VlmCaptionRun $set.Config } | Should -Throw -ErrorId 'BatchSettingsChanged*' -ExpectedMessage "*Its batches $id may still run*-CancelBatch*"

        $cancelled = @(Invoke-VlmCaptionRun $set.Config -CancelBatch)
        $cancelled.Count | Should -Be 1
        $cancelled[0].BatchId | Should -Be $id
        $cancelled[0].Status | Should -Be 'cancelling'
        (Invoke-RestMethod -Uri "$($server.BaseUrl)/batches/$id").status | Should -BeIn 'cancelling', 'cancelled'

        # The folder stays: with the settings it started with, the run collects the cancelled batch and sends its requests again.
        (Get-Content -LiteralPath $set.Config) | Where-Object { $_ -ne 'system_prompt: Other.' } | Set-Content -LiteralPath $set.Config
        # Batches outlive a reset of the options; new ones run at the new pace.
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20 }
        $summary = Invoke-VlmCaptionRun $set.Config -WarningAction SilentlyContinue
        $summary.Succeeded | Should -Be 2
    }
}

Describe 'What a batch run says of its answers, as a live run says it' {
    It 'warns of a turn before the caption cut off by the limit, and marks the result' {
        Reset-TestServer $server -Options @{ models = @('test'); batchStepMs = 20; faults = @(@{ kind = 'length'; turn = 1 }) }
        $set = New-FaultSet -Count 1
        (Get-Content -LiteralPath $set.Config) -replace '^prompts: .*', 'prompts: [Describe the image., Shorten it.]' | Set-Content -LiteralPath $set.Config
        $results = @(Invoke-VlmCaptionRun $set.Config -PassThru -WarningVariable w -WarningAction SilentlyContinue)
        $results.Count | Should -Be 1
        $results[0].CutOffTurns | Should -Be 1
        "$w" | Should -BeLike '*1 turn(s) before the caption were cut off by the answer limit*'
    }
}
