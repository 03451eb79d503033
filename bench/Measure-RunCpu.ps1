<#
.SYNOPSIS
    What a whole Invoke-VlmCaptionRun costs in CPU: a fresh pwsh process (start-up, import, JIT and all) captioning
    0, 1 and -Count small PNGs x 2 prompts, streamed, -ThrottleLimit 8, against the reference server answering at
    once. Reports the 0-image run's CPU, the CPU per image beyond a 1-image run, and the methods the JIT compiled.
.DESCRIPTION
    This is the client's whole cost where the server shares the machine: every CPU-second here is one the server
    could have used. Medians of -Runs, the counts interleaved so drift on the machine falls on all of them.
    -Environment passes variables to the measured process only (DOTNET_TieredPGO=0, DOTNET_ReadyToRun=0, ...).
#>
param([int] $Count = 500, [int] $Runs = 5, [int] $ThrottleLimit = 8, [hashtable] $Environment = @{})

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
$module = Get-BenchModulePath
$server = Start-TestServer -Arguments '--no-image-decode', '--no-log', '--latency-ms', '0'
$root = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-runcpu-$PID"
try {
    $runner = Join-Path $root 'run.ps1'
    New-Item -ItemType Directory -Path $root -Force | Out-Null
    Set-Content -LiteralPath $runner -Value @'
param($Module, $Config)
Import-Module $Module
Invoke-VlmCaptionRun $Config -Force -WarningAction Ignore | Out-Null
# The process's own CPU, start-up included (a process that has exited no longer tells its CPU on Linux), and
# what the JIT compiled in it: methods and time.
"$([Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalSeconds) $([System.Runtime.JitInfo]::GetCompiledMethodCount($false)) $([System.Runtime.JitInfo]::GetCompilationTime($false).TotalSeconds)"
'@
    $configs = @{}
    foreach ($n in 0, 1, $Count) {
        $folder = Join-Path $root "images-$n"
        if ($n -gt 0) { New-BenchImages -Folder $folder -Count $n -Width 64 -Height 48 -Format png -Pattern solid }
        else { New-Item -ItemType Directory -Path $folder -Force | Out-Null }
        $configs[$n] = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $configs[$n] -Value "base_url: $($server.BaseUrl)`nmodel: test`nbase_directory: .`nprompts: ['Describe it.', 'Shorter.']`nconcurrent_batch_size: $ThrottleLimit"
    }

    $samples = Invoke-WithEnvironment $Environment {
        foreach ($run in 1..$Runs) {
            foreach ($n in 0, 1, $Count) {
                Get-ChildItem -LiteralPath (Split-Path $configs[$n]) -Filter *.txt | Remove-Item
                $line = Invoke-FreshPwsh -Arguments '-NoProfile', '-NonInteractive', '-File', $runner, $module, $configs[$n] | Select-Object -Last 1
                $cpu, $methods, $jit = $line -split ' '
                [pscustomobject]@{ Images = $n; Cpu = [double]$cpu; Methods = [int]$methods; Jit = [double]$jit }
            }
        }
    }

    $median = @{}
    foreach ($group in $samples | Group-Object Images) {
        $median[[int]$group.Name] = [pscustomobject]@{
            Cpu = Get-Median $group.Group.Cpu; Methods = Get-Median $group.Group.Methods; Jit = Get-Median $group.Group.Jit
        }
    }
    $samples | Format-Table | Out-String | Write-Host
    [pscustomobject]@{
        Benchmark          = 'RunCpu'
        Environment        = Format-Environment $Environment
        NoImageCpuSeconds  = [math]::Round($median[0].Cpu, 2)
        OneImageCpuSeconds = [math]::Round($median[1].Cpu, 2)
        CountCpuSeconds    = [math]::Round($median[$Count].Cpu, 2)
        MsPerImageBeyondOne = [math]::Round(($median[$Count].Cpu - $median[1].Cpu) * 1000 / ($Count - 1), 2)
        JitMethods         = "$($median[0].Methods) / $($median[1].Methods) / $($median[$Count].Methods)"
        JitSeconds         = "$([math]::Round($median[0].Jit, 2)) / $([math]::Round($median[1].Jit, 2)) / $([math]::Round($median[$Count].Jit, 2))"
    }
}
finally {
    Stop-TestServer $server
    Remove-Item $root -Recurse -Force -ErrorAction Ignore
}
