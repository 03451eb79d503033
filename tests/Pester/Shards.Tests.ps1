# Several machines on one dataset: -Shard i/n (shard: 'i/n') splits a folder into parts without overlap.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')

    function New-ShardConfig([string] $Folder, [string] $Extra = '') {
        $path = Join-Path $Folder 'caption.yaml'
        Set-Content -LiteralPath $path -Value "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe.]`nbase_directory: set`nrecursive: true`nskip_if_caption_exists: true`n$Extra"
        $path
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Shards' {
    BeforeEach {
        Reset-TestServer $server
        $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        $set = New-Item -ItemType Directory -Path (Join-Path $root 'set')
        $sub = New-Item -ItemType Directory -Path (Join-Path $set 'more')
        1..24 | ForEach-Object { New-TestImage $server (Join-Path ($(if ($_ % 3) { $set } else { $sub })) "s$_.png") -Width (20 + $_) | Out-Null }
    }

    It 'partitions a folder exactly: three shards caption every image once, each in exactly one shard' {
        $config = New-ShardConfig $root
        $counts = foreach ($i in 1..3) {
            $before = @(Get-ChildItem $set -Recurse -Filter *.txt).Count
            $summary = Invoke-VlmCaptionRun $config -Shard "$i/3"
            $after = @(Get-ChildItem $set -Recurse -Filter *.txt).Count
            ($after - $before) | Should -Be $summary.Succeeded
            $summary.Succeeded
        }
        ($counts | Measure-Object -Sum).Sum | Should -Be 24
        $counts | ForEach-Object { $_ | Should -BeGreaterThan 0 }
        @(Get-TestServerRequest $server).Count | Should -Be 24
        @(Get-ChildItem $set -Recurse -Filter *.txt).Count | Should -Be 24
    }

    It 'gives every machine the same parts: the part depends on the path below base_directory, not on where the share is mounted' {
        $config = New-ShardConfig $root 'shard: 2/3'
        $first = @(Invoke-VlmCaptionRun $config -WhatIf -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Shard 2/3:*' }).Message
        $moved = Join-Path $TestDrive ([guid]::NewGuid())
        Copy-Item $root $moved -Recurse
        $second = @(Invoke-VlmCaptionRun (Join-Path $moved 'caption.yaml') -WhatIf -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Shard 2/3:*' }).Message
        $first | Should -Not -BeNullOrEmpty
        $second | Should -Be $first
        $a = (Invoke-VlmCaptionRun $config -PassThru).Image | Sort-Object
        $b = (Invoke-VlmCaptionRun (Join-Path $moved 'caption.yaml') -PassThru).Image | Sort-Object
        $b | Should -Be $a
    }

    It 'refuses a shard that is out of range or malformed, before any request' -ForEach @(
        @{ Shard = '0/3'; Says = '*numbered 1 to 3*adds 1*' }
        @{ Shard = '4/3'; Says = '*numbered 1 to 3*' }
        @{ Shard = '1/0'; Says = '*0 parts*' }
        @{ Shard = 'half'; Says = '*form i/n*' }
    ) {
        $config = New-ShardConfig $root
        { Invoke-VlmCaptionRun $config -Shard $Shard -ErrorAction Stop } | Should -Throw $Says
        Set-Content -LiteralPath $config -Value ((Get-Content -Raw $config) + "shard: '$Shard'")
        { Invoke-VlmCaptionRun $config -ErrorAction Stop } | Should -Throw $Says
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }
}
