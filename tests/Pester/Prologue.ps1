# The one prologue of every test file, dot-sourced first in its BeforeAll:
#     . (Join-Path $PSScriptRoot 'Prologue.ps1')                    # module, helpers and a reference server in $server
#     . (Join-Path $PSScriptRoot 'Prologue.ps1') -NoServer          # module and helpers only
#     . (Join-Path $PSScriptRoot 'Prologue.ps1') -ServerArguments '--latency-ms', '100'
#     . (Join-Path $PSScriptRoot 'Prologue.ps1') -NoModule            # helpers and a server: the file imports the module its own way
# A file that starts a server ends it in its AfterAll with Stop-TestServer $server.
# Slow tests (over about 4 s each) carry -Tag Slow: ./build.ps1 Test -Quick leaves them out of the edit-and-test
# loop; the README's command and CI run them all.
param([string[]] $ServerArguments = @(), [switch] $NoServer, [switch] $NoModule)

if (-not $NoModule) {
    Import-Module $env:VLMCAPTION_MODULE -Force
}

Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
if (-not $NoServer) {
    $server = Start-TestServer -Arguments $ServerArguments
}
