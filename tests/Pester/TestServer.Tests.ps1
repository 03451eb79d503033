# The reference server itself: the README tells people to run it, so it must stop cleanly.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1') -NoModule -NoServer
}

Describe 'The reference server' {
    It 'stops with exit code 0 and nothing on stderr on SIG<_>' -Skip:$IsWindows -ForEach 'INT', 'TERM' {
        $server = Start-TestServer -DefaultSignals
        try {
            Invoke-RestMethod "$($server.BaseUrl)/models" | Should -Not -BeNullOrEmpty
            $process = $server.Process
            & kill "-$_" $server.Id
            $process.WaitForExit(15000) | Should -BeTrue -Because "SIG$_ must stop the server"
            $process.ExitCode | Should -Be 0
            Get-Content (Join-Path $server.Folder 'stderr.txt') -Raw | Should -BeNullOrEmpty
        }
        finally {
            Stop-TestServer $server
        }
    }
}
