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
        [pscustomobject]@{ Set = $set.FullName; Config = $config }
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
