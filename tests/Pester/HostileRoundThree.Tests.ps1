# Hostile inputs, round three: what stands in a claim file's place, caption files that link out of the dataset,
# and caption files in encodings the module did not write, read back and saved unchanged.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')

    function Get-ClaimPath([string] $Image) {
        $sha = [Security.Cryptography.SHA256]::Create().ComputeHash([Text.Encoding]::UTF8.GetBytes((Split-Path $Image -Leaf)))
        Join-Path (Split-Path $Image) ('.vlmcaption-claim-' + ([BitConverter]::ToString($sha, 0, 8) -replace '-').ToLowerInvariant())
    }

    # A run in its own process, bounded in time and memory: a run that hangs on a FIFO or reads /dev/zero is killed
    # and the test says so, instead of hanging the suite or filling this process.
    function Invoke-BoundedRun([string] $Config, [int] $Seconds = 60, [long] $MaxBytes = 2GB) {
        $result = Join-Path $TestDrive "result-$([guid]::NewGuid().ToString('N')).json"
        $runner = "$result.ps1"
        Set-Content -LiteralPath $runner -Value @"
Import-Module '$env:VLMCAPTION_MODULE'
`$summary = Invoke-VlmCaptionRun '$Config' -ErrorVariable e -ErrorAction SilentlyContinue
[pscustomobject]@{ Succeeded = `$summary.Succeeded; Skipped = `$summary.Skipped; Errors = @(`$e | ForEach-Object { [pscustomobject]@{ Id = `$_.FullyQualifiedErrorId; Message = `$_.Exception.Message } }) } | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath '$result'
"@
        $process = Start-FreshPwshFile $runner
        $deadline = [datetime]::UtcNow.AddSeconds($Seconds)
        $peak = 0L
        while (-not $process.HasExited -and [datetime]::UtcNow -lt $deadline) {
            $process.Refresh()
            $peak = [Math]::Max($peak, $process.WorkingSet64)
            if ($peak -gt $MaxBytes) { break }
            Start-Sleep -Milliseconds 100
        }
        $finished = $process.HasExited
        if (-not $finished) { $process.Kill() }
        [pscustomobject]@{ Finished = $finished; PeakBytes = $peak; Result = if ($finished -and (Test-Path -LiteralPath $result)) { Get-Content -LiteralPath $result -Raw | ConvertFrom-Json } }
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'What stands in a claim file''s place' -Skip:($IsWindows) {
    BeforeEach {
        Reset-TestServer $server -Options @{ models = @('test') }
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid().ToString('N').Substring(0, 8)))
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        $paths = foreach ($name in 'fifo.png', 'zero.png', 'folder.png', 'plain.png') { (New-TestImage $server (Join-Path $images $name)).FullName }
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [a]`nbase_directory: images`nskip_if_caption_exists: true"
    }

    It 'replaces a FIFO and a link to /dev/zero, and fails the image whose claim place holds a folder, naming it' {
        & mkfifo (Get-ClaimPath $paths[0])
        New-Item -ItemType SymbolicLink -Path (Get-ClaimPath $paths[1]) -Target '/dev/zero' | Out-Null
        $blocking = New-Item -ItemType Directory -Path (Get-ClaimPath $paths[2])
        Set-Content -LiteralPath (Join-Path $blocking 'keep.txt') -Value 'a file of someone''s'

        $outcome = Invoke-BoundedRun $config
        $outcome.Finished | Should -BeTrue -Because "a FIFO or /dev/zero in a claim's place is never read (peak $($outcome.PeakBytes) bytes)"
        $outcome.Result.Succeeded | Should -Be 3
        $outcome.Result.Skipped | Should -Be 0 -Because 'no image is skipped in silence'
        @($outcome.Result.Errors).Count | Should -Be 1
        $outcome.Result.Errors[0].Id | Should -BeLike 'ClaimBlocked*'
        $outcome.Result.Errors[0].Message | Should -BeLike "*'$($blocking.FullName)' is a folder*"
        Test-Path -LiteralPath ([IO.Path]::ChangeExtension($paths[2], '.txt')) | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $blocking 'keep.txt') | Should -BeTrue -Because 'a folder that is no claim is not removed'
        Test-Path -LiteralPath '/dev/zero' | Should -BeTrue
        Get-ChildItem -LiteralPath $images -Force -Filter '.vlmcaption-claim-*' | Where-Object { -not $_.PSIsContainer } | Should -BeNullOrEmpty
    }
}

Describe 'Caption files read back' {
    BeforeEach {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid().ToString('N').Substring(0, 8)))
        $set = New-Item -ItemType Directory -Path (Join-Path $folder 'set')
        foreach ($name in 'utf16', 'latin1', 'plain', 'crlf') { New-TestImage $server (Join-Path $set "$name.png") | Out-Null }
    }

    It 'does not follow a caption file that links out of its folder' -Skip:($IsWindows) {
        $secret = Join-Path $folder 'secret.txt'
        Set-Content -LiteralPath $secret -Value 'root:x:0:0:root:/root:/bin/bash'
        New-Item -ItemType SymbolicLink -Path (Join-Path $set 'plain.txt') -Target $secret | Out-Null
        $results = @(Import-VlmCaption -LiteralPath (Join-Path $set 'plain.png') -ErrorVariable e -ErrorAction SilentlyContinue)
        $results | Should -BeNullOrEmpty
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'CaptionUnreadable*'
        $e[0].Exception.Message | Should -BeLike '*is a link to a file outside its folder*'
    }

    It 'reads UTF-16 with its BOM as text, warns of bytes that are not UTF-8, and leaves every file untouched when saved unchanged' {
        $files = @{
            utf16  = [Text.Encoding]::Unicode.GetPreamble() + [Text.Encoding]::Unicode.GetBytes('a café at dusk')
            latin1 = [Text.Encoding]::Latin1.GetBytes('a café at dusk')
            plain  = [Text.Encoding]::UTF8.GetBytes("a dog on a beach`n")
            crlf   = [Text.Encoding]::UTF8.GetBytes("a dog`r`n")
        }
        foreach ($name in $files.Keys) { [IO.File]::WriteAllBytes((Join-Path $set "$name.txt"), [byte[]] $files[$name]) }
        $before = @{}
        foreach ($name in $files.Keys) { $before[$name] = (Get-Item -LiteralPath (Join-Path $set "$name.txt")).LastWriteTimeUtc }
        Start-Sleep -Milliseconds 20

        $captions = @(Import-VlmCaption $set -WarningVariable w -WarningAction SilentlyContinue)
        ($captions | Where-Object { $_.Path -like '*utf16.png' }).Caption | Should -Be 'a café at dusk'
        "$w" | Should -BeLike '*latin1.txt* is not valid UTF-8*'
        # The README's find-and-replace pipeline, with nothing found to replace.
        $captions | ForEach-Object { $_.Caption = $_.Caption -replace 'zebra', 'horse'; $_ } | Save-VlmCaption -Force | Out-Null

        foreach ($name in $files.Keys) {
            $path = Join-Path $set "$name.txt"
            [Convert]::ToBase64String([IO.File]::ReadAllBytes($path)) | Should -Be ([Convert]::ToBase64String([byte[]] $files[$name])) -Because "$name.txt was not changed"
            (Get-Item -LiteralPath $path).LastWriteTimeUtc | Should -Be $before[$name]
        }

        # Changed, it is written, in UTF-8.
        $captions | Where-Object { $_.Path -like '*utf16.png' } | ForEach-Object { $_.Caption = $_.Caption -replace 'dusk', 'dawn'; $_ } | Save-VlmCaption -Force | Out-Null
        [IO.File]::ReadAllText((Join-Path $set 'utf16.txt')) | Should -Be 'a café at dawn'
    }
}
