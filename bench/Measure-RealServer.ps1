<#
.SYNOPSIS
    Against a real llama.cpp llama-server: does the client keep its slots busy, and what does it cost? Images x
    prompts through Invoke-VlmCaptionRun (streamed, -ThrottleLimit) in a fresh pwsh process; the server's
    requests in flight while images remain, from the server's own log (each slot's "processing task" and "stop
    processing" lines, timestamped to the microsecond), the retry and immediate-resend lines of -Verbose, wall
    time, the client process's CPU (all of it, and from its first request on), and the server's median time per
    request (a slow machine's requests are long, and a fixed gap between requests then weighs less).
.DESCRIPTION
    llama-server is not part of this repository (CI has no llama.cpp): give its binary with -LlamaServer or
    $env:VLMCAPTION_LLAMA_SERVER, and a model and vision projector (-Model, -Mmproj, -Grammar). Without a
    binary the benchmark is skipped with a message. docs/benchmarks.md says how one was built and measured.
    The server computes on the same cores as the client: keep the machine otherwise quiet. A larger model made
    the same way gives longer requests, to measure at another machine's proportions (docs/benchmarks.md).
#>
param(
    [string] $LlamaServer = $env:VLMCAPTION_LLAMA_SERVER,
    [string] $Model = (Join-Path ([IO.Path]::GetTempPath()) 'tiny/tiny-llama.gguf'),
    [string] $Mmproj = (Join-Path ([IO.Path]::GetTempPath()) 'tiny/tiny-mmproj.gguf'),
    [string] $Grammar = (Join-Path ([IO.Path]::GetTempPath()) 'tiny/caption.gbnf'),
    [int] $Images = 96, [int] $Prompts = 2, [int] $Parallel = 8, [int] $ThrottleLimit = 8, [int] $Runs = 3,
    # Whole answers (stream: false) instead of streamed ones: where the server computes on the client's cores, each
    # streamed token costs both processes a wake-up.
    [switch] $NoStream,
    # Module: Invoke-VlmCaptionRun. Minimal: bench/MinimalClient, the least a client can do (HttpClient, no checks, no
    # files), for what the server itself allows on this machine.
    [ValidateSet('Module', 'Minimal')] [string] $Client = 'Module',
    # Variables for the client's process only (DOTNET_TieredPGO=0, ...); the server and this script keep theirs.
    [hashtable] $Environment = @{}
)

function Measure-SlotLog([string[]] $Lines, [int] $Full) {
    # llama-server's slot lines (tools/server/server-context.cpp: launch_slot_with_task logs "processing task",
    # slot release "stop processing"), with --log-timestamps --log-prefix: "M.SS.mmm.uuu I slot ...: id  3 | task 12 | ...".
    $events = foreach ($line in $Lines) {
        if ($line -match '^(\d+)\.(\d+)\.(\d+)\.(\d+) I slot .*\| task (\d+) \| (processing task|stop processing)') {
            $seconds = [int]$Matches[1] * 60 + [int]$Matches[2] + [int]$Matches[3] / 1e3 + [int]$Matches[4] / 1e6
            [pscustomobject]@{ At = $seconds; Step = if ($Matches[6] -eq 'processing task') { 1 } else { -1 }; Task = $Matches[5] }
        }
    }
    $events = @($events | Sort-Object At, Step)
    if ($events.Count -eq 0) { return $null }
    # The busy count as a step function; "while images remain" ends when it last falls from full (all the slots
    # the throttle limit can fill) for good: after that only the last images' turns are left.
    $busy = 0; $lastFullEnd = $null; $wasFull = $false
    foreach ($e in $events) {
        $busy += $e.Step
        if ($wasFull -and $busy -lt $Full) { $lastFullEnd = $e.At }
        $wasFull = $busy -ge $Full
    }
    $start = $events[0].At; $end = if ($lastFullEnd) { $lastFullEnd } else { $events[-1].At }
    $area = 0.0; $busy = 0; $previous = $start
    foreach ($e in $events) {
        if ($e.At -gt $end) { break }
        $area += $busy * ($e.At - $previous); $busy += $e.Step; $previous = $e.At
    }
    $started = @{}
    $durations = foreach ($e in $events) {
        if ($e.Step -eq 1) { $started[$e.Task] = $e.At } elseif ($started.ContainsKey($e.Task)) { $e.At - $started[$e.Task] }
    }
    [pscustomobject]@{
        RequestMs = if ($durations) { 1000 * (Get-Median $durations) } else { 0 }
        InFlight = if ($end -gt $start) { $area / ($end - $start) } else { 0 }
        BusySpan = $events[-1].At - $start
        Tasks    = @($events | Where-Object Step -EQ 1).Count
    }
}

$ErrorActionPreference = 'Stop'
if (-not $LlamaServer -or -not (Test-Path -LiteralPath $LlamaServer)) {
    Write-Warning 'Measure-RealServer skipped: no llama-server binary given (-LlamaServer or $env:VLMCAPTION_LLAMA_SERVER). See docs/benchmarks.md, "Against a real llama-server".'
    return
}

Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
$module = Get-BenchModulePath
$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
$listener.Start()
$port = $listener.LocalEndpoint.Port
$listener.Stop()
$serverLog = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-llama-$PID.log"
$arguments = @('--host', '127.0.0.1', '--port', $port, '-m', $Model, '--mmproj', $Mmproj, '--grammar-file', $Grammar, '-c', (4096 * $Parallel), '-np', $Parallel, '-t', 2, '--metrics', '--log-timestamps', '--log-prefix')
# The shell sends the server's output to its files itself: Start-Process -RedirectStandardError has this process
# read every log line and write it on (on Linux and macOS), CPU that the server on the same cores then lacked: a
# fifth of a core while it logged a line per request state.
$server = if ($IsWindows) {
    Start-Process -FilePath $LlamaServer -ArgumentList $arguments -PassThru -RedirectStandardError $serverLog -RedirectStandardOutput "$serverLog.out"
}
else {
    $start = [Diagnostics.ProcessStartInfo]::new('sh')
    foreach ($argument in @('-c', 'exec "$0" "$@" >"$VLMBENCH_LOG.out" 2>"$VLMBENCH_LOG"', $LlamaServer) + $arguments) { $start.ArgumentList.Add([string]$argument) }
    $start.Environment['VLMBENCH_LOG'] = $serverLog
    [Diagnostics.Process]::Start($start)
}
$folder = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-realserver-$PID"
try {
    $baseUrl = "http://127.0.0.1:$port/v1"
    $deadline = [datetime]::UtcNow.AddSeconds(120)
    while ($true) {
        try { if ((Invoke-WebRequest "http://127.0.0.1:$port/health" -SkipHttpErrorCheck).StatusCode -eq 200) { break } } catch { }
        if ([datetime]::UtcNow -gt $deadline -or $server.HasExited) { throw "llama-server did not become ready; see $serverLog" }
        Start-Sleep -Milliseconds 200
    }

    New-BenchImages -Folder $folder -Count $Images -Width 64 -Height 48 -Format png -Pattern solid
    $config = Join-Path $folder 'caption.yaml'
    $promptList = (1..$Prompts | ForEach-Object { "'Prompt $_.'" }) -join ', '
    Set-Content -LiteralPath $config -Value "base_url: $baseUrl`nmodel: tiny`nbase_directory: .`nprompts: [$promptList]`nconcurrent_batch_size: $ThrottleLimit`nstream: $(if ($NoStream) { 'false' } else { 'true' })"
    $runner = Join-Path $folder 'run.ps1'
    Set-Content -LiteralPath $runner -Value @'
param($Module, $Config, $Out)
Import-Module $Module
# The verbose lines go straight to a file: filtering them through script blocks here cost the client more CPU
# than its captioning did, CPU the server on the same cores then lacked.
$self = [Diagnostics.Process]::GetCurrentProcess()
$before = $self.TotalProcessorTime.TotalSeconds
Invoke-VlmCaptionRun $Config -Force -Verbose 4> "$Out.verbose" | Out-Null
$self.Refresh()
# The process's own CPU, start-up included, and that of the run alone (what competed with the server): a process
# that has exited no longer tells its CPU on Linux.
Set-Content -LiteralPath $Out -Value "cpu $($self.TotalProcessorTime.TotalSeconds) run $($self.TotalProcessorTime.TotalSeconds - $before)"
'@
    if ($Client -eq 'Minimal') {
        $minimalOut = Join-Path $folder 'minimal'
        & dotnet build (Join-Path $PSScriptRoot 'MinimalClient') -c Release -o $minimalOut --nologo -v quiet | Out-Host
        if ($LASTEXITCODE -ne 0) { throw 'bench/MinimalClient did not build.' }
        $minimal = Join-Path $minimalOut 'MinimalClient.dll'
    }
    $results = foreach ($run in 1..$Runs) {
        # This process compiles what it ran to set up (tiered JIT, in the background) for a few seconds after:
        # CPU the server would lack. Each run starts once it has been quiet for half a second, or after 15 s.
        $self = [Diagnostics.Process]::GetCurrentProcess()
        $settle = [Diagnostics.Stopwatch]::StartNew()
        do {
            $before = $self.TotalProcessorTime
            Start-Sleep -Milliseconds 500
            $self.Refresh()
        } while (($self.TotalProcessorTime - $before).TotalMilliseconds -gt 25 -and $settle.Elapsed.TotalSeconds -lt 15)
        Get-ChildItem -LiteralPath $folder -Filter *.txt | Remove-Item
        $out = Join-Path $folder "verbose-$run.txt"
        $logStart = @(Get-Content -LiteralPath $serverLog).Count
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $process = Invoke-WithEnvironment $Environment {
            if ($Client -eq 'Minimal') {
                Start-Process -FilePath 'dotnet' -ArgumentList @($minimal, $baseUrl, 'tiny', $folder, $ThrottleLimit, $Prompts, 4096, $(if ($NoStream) { 'nostream' } else { 'stream' })) -PassThru -RedirectStandardOutput $out
            }
            else {
                Start-FreshPwshFile $runner -ArgumentList $module, $config, $out
            }
        }
        $process.WaitForExit()
        $wall = $clock.Elapsed.TotalSeconds
        Start-Sleep -Milliseconds 300   # the server's log is written by a thread of its own
        $slotLog = Measure-SlotLog (@(Get-Content -LiteralPath $serverLog) | Select-Object -Skip $logStart) ([math]::Min($Parallel, $ThrottleLimit))
        $verbose = @(Get-Content -LiteralPath "$out.verbose" -ErrorAction Ignore)
        $said = "$(Get-Content -LiteralPath $out -ErrorAction Ignore | Select-Object -First 1)"
        $cpu = if ($said -match 'cpu (\S+)') { [double]$Matches[1] } else { [double]::NaN }
        $runCpu = if ($said -match 'run (\S+)') { [double]$Matches[1] } else { [double]::NaN }
        [pscustomobject]@{
            Run       = $run
            Seconds   = [math]::Round($wall, 2)
            ClientCpu = [math]::Round($cpu, 2)
            RunCpu    = [math]::Round($runCpu, 2)
            InFlight  = [math]::Round($slotLog.InFlight, 2)
            BusySpan  = [math]::Round($slotLog.BusySpan, 2)
            RequestMs = [math]::Round($slotLog.RequestMs)
            Tasks     = $slotLog.Tasks
            Captions  = if ($Client -eq 'Minimal') { 'n/a' } else { @(Get-ChildItem -LiteralPath $folder -Filter img*.txt).Count }
            Retries   = @($verbose -match 'Retry \d+ of').Count
            Resent    = @($verbose -match 'sent again at once').Count
        }
    }

    $results | Format-Table | Out-String | Write-Host
    [pscustomobject]@{
        Benchmark       = 'RealServer'
        Images          = $Images
        Prompts         = $Prompts
        Parallel        = $Parallel
        ThrottleLimit   = $ThrottleLimit
        Client          = $Client
        Stream          = -not $NoStream
        Environment     = Format-Environment $Environment
        MedianSeconds   = [math]::Round((Get-Median $results.Seconds), 2)
        MedianClientCpu = [math]::Round((Get-Median $results.ClientCpu), 2)
        MedianRunCpu    = [math]::Round((Get-Median $results.RunCpu), 2)
        MedianInFlight  = [math]::Round((Get-Median $results.InFlight), 2)
        MedianBusySpan  = [math]::Round((Get-Median $results.BusySpan), 2)
        MedianRequestMs = [math]::Round((Get-Median $results.RequestMs))
        Retries         = ($results.Retries | Measure-Object -Sum).Sum
        Resent          = ($results.Resent | Measure-Object -Sum).Sum
        Captions        = ($results.Captions | ForEach-Object { $_ }) -join ', '
    }
}
finally {
    if (-not $server.HasExited) { $server.Kill() }
    Remove-Item $folder -Recurse -Force -ErrorAction Ignore
}
