# Batch rounds against the provider as OpenAI documents it, faults included: 429 (with Retry-After) and 500 on
# every route of the Batch API, output lines in an order of their own (the reference server reverses them).
BeforeAll {
    Import-Module $env:VLMCAPTION_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    $server = Start-TestServer

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
    It 'survives a 500 and a 429 with Retry-After on every route, and names the request id' {
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
