<#
.SYNOPSIS
    What a video clip costs: a 1080p clip of -Minutes (30 fps, H.264) captioned from -ClipFrames frames by
    Get-VlmCaption in a fresh pwsh process, against the reference server. Prints wall time, the pwsh process's
    CPU and peak working set, and the CPU and largest peak RSS of the ffprobe and ffmpeg it ran (getrusage of its
    reaped children), for each clip length. Skipped with a message where there is no ffmpeg.
#>
param([double[]] $Minutes = @(1, 10), [int] $ClipFrames = 8, [int] $Runs = 3)

$ErrorActionPreference = 'Stop'
$ffmpeg = Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
if (-not $ffmpeg) {
    Write-Warning 'Measure-Clips skipped: no ffmpeg on PATH (Debian: apt-get install ffmpeg).'
    return
}

Import-Module (Join-Path $PSScriptRoot 'BenchCommon.psm1') -Force
$module = Get-BenchModulePath
$server = Start-TestServer -Arguments '--no-log'
$folder = Join-Path ([IO.Path]::GetTempPath()) "vlmbench-clips-$PID"
New-Item -ItemType Directory -Path $folder -Force | Out-Null
try {
    foreach ($length in $Minutes) {
        # testsrc2 moves and changes every frame, so the encoder and the decoder both have real work.
        $clip = Join-Path $folder "clip-$($length)min.mp4"
        $made = [Diagnostics.Stopwatch]::StartNew()
        & $ffmpeg.Source -nostdin -v error -y -f lavfi -i "testsrc2=s=1920x1080:r=30:d=$($length * 60)" -c:v libx264 -preset ultrafast -g 60 -pix_fmt yuv420p $clip
        if ($LASTEXITCODE -ne 0) { throw "ffmpeg could not write the test clip." }
        Write-Host ("Made a {0}-minute 1080p clip of {1:0.0} MB in {2:0} s." -f $length, ((Get-Item $clip).Length / 1MB), $made.Elapsed.TotalSeconds)

        $measure = {
            param($Module, $Clip, $BaseUrl, $Frames)
            Add-Type -Namespace Bench -Name Usage -MemberDefinition @'
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
public struct RUsage { public long UserSec, UserUsec, SysSec, SysUsec, MaxRss, Ixrss, Idrss, Isrss, Minflt, Majflt, Nswap, Inblock, Oublock, Msgsnd, Msgrcv, Nsignals, Nvcsw, Nivcsw; }
[System.Runtime.InteropServices.DllImport("libc")] public static extern int getrusage(int who, out RUsage usage);
'@
            Import-Module $Module
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $result = Get-VlmCaption -LiteralPath $Clip -BaseUrl $BaseUrl -Model test -ClipFrames $Frames
            $clock.Stop()
            $children = [Bench.Usage+RUsage]::new()
            [void] [Bench.Usage]::getrusage(-1, [ref] $children)
            $self = [Diagnostics.Process]::GetCurrentProcess()
            '{0} {1} {2} {3} {4} {5}' -f $clock.Elapsed.TotalSeconds, $self.TotalProcessorTime.TotalSeconds, $self.PeakWorkingSet64,
                ($children.UserSec + $children.SysSec + ($children.UserUsec + $children.SysUsec) / 1e6), ($children.MaxRss * 1024), $result.SentFrameSeconds.Count
        }
        $rows = foreach ($run in 1..$Runs) {
            $line = Invoke-FreshPwshScript $measure -ArgumentList $module, $clip, $server.BaseUrl, $ClipFrames | Select-Object -Last 1
            $values = [double[]] ($line -split ' ')
            [pscustomobject]@{ Seconds = $values[0]; Cpu = $values[1]; Peak = $values[2]; ChildCpu = $values[3]; ChildPeak = $values[4]; Frames = $values[5] }
        }
        [pscustomobject]@{
            Benchmark        = 'Clips'
            Clip             = "$length min 1080p30"
            Frames           = ($rows | Select-Object -First 1).Frames
            'Wall s'         = [math]::Round((Get-Median $rows.Seconds), 2)
            'pwsh CPU s'     = [math]::Round((Get-Median $rows.Cpu), 2)
            'pwsh peak MB'   = [math]::Round((Get-Median $rows.Peak) / 1MB, 0)
            'ffmpeg CPU s'   = [math]::Round((Get-Median $rows.ChildCpu), 2)
            'ffmpeg peak MB' = [math]::Round((Get-Median $rows.ChildPeak) / 1MB, 0)
        }
    }
}
finally {
    Stop-TestServer $server
    Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction SilentlyContinue
}
