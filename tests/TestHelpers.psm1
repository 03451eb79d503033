# Helpers for the Pester tests, the demo and the build: the reference VLM server (tests/VlmCaption.TestServer),
# generated images, and fresh PowerShell processes.

function Start-TestServer {
    <# Starts the server on a free loopback port and returns its address and process id. #>
    [CmdletBinding()]
    param(
        [string] $ServerPath = $env:VLMCAPTION_TESTSERVER,
        [string[]] $Arguments = @(),
        # Start it with SIGINT handled, even when this process inherited it ignored (a background job's children do).
        [switch] $DefaultSignals
    )
    if (-not $ServerPath -or -not (Test-Path $ServerPath)) { throw "Reference server not found at '$ServerPath'. Run ./build.ps1 Build first." }
    $folder = Join-Path ([IO.Path]::GetTempPath()) "vlmcaption-server-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory -Path $folder | Out-Null
    $portFile = Join-Path $folder 'port'
    $allArguments = @($ServerPath, '--port', '0', '--port-file', $portFile, '--log', (Join-Path $folder 'requests.jsonl'), '--parent-pid', $PID) + $Arguments
    $launcher = 'dotnet'
    if ($DefaultSignals) { $launcher, $allArguments = 'env', (@('--default-signal=INT', 'dotnet') + $allArguments) }
    $process = Start-Process -FilePath $launcher -ArgumentList $allArguments -PassThru `
        -RedirectStandardOutput (Join-Path $folder 'stdout.txt') -RedirectStandardError (Join-Path $folder 'stderr.txt')
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while (-not (Test-Path $portFile)) {
        if ($process.HasExited) { throw "The reference server exited with code $($process.ExitCode): $(Get-Content (Join-Path $folder 'stderr.txt') -Raw)" }
        if ([DateTime]::UtcNow -gt $deadline) { Stop-Process -Id $process.Id -Force; throw 'The reference server did not start within 60 s.' }
        Start-Sleep -Milliseconds 50
    }
    $port = [int](Get-Content $portFile -Raw)
    [pscustomobject]@{
        PSTypeName = 'VlmCaption.TestServer'
        Id         = $process.Id
        Process    = $process
        Port       = $port
        Address    = "http://127.0.0.1:$port"
        BaseUrl    = "http://127.0.0.1:$port/v1"
        Folder     = $folder
        LogPath    = Join-Path $folder 'requests.jsonl'
    }
}

function Stop-TestServer {
    <# Stops the server by its process id and removes its folder. #>
    param([Parameter(Mandatory)] $Server)
    $process = Get-Process -Id $Server.Id -ErrorAction Ignore
    if ($process) {
        Stop-Process -Id $Server.Id -Force
        $process.WaitForExit(10000) | Out-Null
    }
    Remove-Item $Server.Folder -Recurse -Force -ErrorAction Ignore
}

function Reset-TestServer {
    <# Clears the request log and counters and sets the options: by default one model 'test', no latency, no faults. #>
    param([Parameter(Mandatory)] $Server, [hashtable] $Options = @{ models = @('test') })
    Invoke-RestMethod -Method Post -Uri "$($Server.Address)/debug/reset" -Body ($Options | ConvertTo-Json -Depth 8) -ContentType 'application/json' | Out-Null
}

function Get-TestServerRequest {
    <# The chat requests the server received since start or the last reset; with -IncludeModels, the model-list requests too. #>
    param([Parameter(Mandatory)] $Server, [switch] $IncludeModels)
    $entries = (Invoke-WebRequest -Uri "$($Server.Address)/debug/requests").Content | ConvertFrom-Json -NoEnumerate
    $entries | Where-Object { $IncludeModels -or $_.path -eq '/v1/chat/completions' }
}

function Get-TestServerStat {
    param([Parameter(Mandatory)] $Server)
    Invoke-RestMethod -Uri "$($Server.Address)/debug/stats"
}

function New-TestImage {
    <# Writes a generated image: a solid colour of the given size and format. #>
    param(
        [Parameter(Mandatory)] $Server,
        [Parameter(Mandatory)] [string] $Path,
        [int] $Width = 64,
        [int] $Height = 48,
        [string] $Color = 'red',
        [string] $Format = 'png',
        [switch] $Alpha,
        [int] $Orientation = 0,
        [int] $Frames = 1,
        [switch] $Bits16,
        [switch] $Palette,
        [switch] $Cmyk,
        # Only a PNG header declaring Width x Height, with no real pixels: a decompression bomb.
        [switch] $DeclareOnly
    )
    $query = "width=$Width&height=$Height&color=$Color&format=$Format&orientation=$Orientation&frames=$Frames" +
        "&alpha=$($Alpha.IsPresent.ToString().ToLower())&bits16=$($Bits16.IsPresent.ToString().ToLower())" +
        "&palette=$($Palette.IsPresent.ToString().ToLower())&cmyk=$($Cmyk.IsPresent.ToString().ToLower())" +
        "&declareOnly=$($DeclareOnly.IsPresent.ToString().ToLower())"
    $bytes = (Invoke-WebRequest -Uri "$($Server.Address)/debug/image?$query").Content
    [IO.File]::WriteAllBytes($Path, $bytes)
    Get-Item -LiteralPath $Path
}

function New-TestImageFolder {
    <# A new folder under -Parent with -Count red PNGs named <Prefix>1.png ..., each a pixel wider than the last (from -FirstWidth), so requests tell them apart. #>
    param(
        [Parameter(Mandatory)] $Server,
        [Parameter(Mandatory)] [string] $Parent,
        [int] $Count = 1,
        [string] $Prefix = 'i',
        [int] $FirstWidth = 31
    )
    $folder = New-Item -ItemType Directory -Path (Join-Path $Parent ([guid]::NewGuid()))
    1..$Count | ForEach-Object { New-TestImage $Server (Join-Path $folder "$Prefix$_.png") -Width ($FirstWidth - 1 + $_) | Out-Null }
    $folder
}

function New-RedBlueSet {
    <#
    A new folder under -Parent holding a 'set' folder of two images the reference server tells apart by colour and
    size: red.png (40x48) and blue.png (41x48). Returns the folder, the set and red.png.
    #>
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [string] $Parent)
    $folder = New-Item -ItemType Directory -Path (Join-Path $Parent ([guid]::NewGuid()))
    $images = New-Item -ItemType Directory -Path (Join-Path $folder 'set')
    $red = New-TestImage $Server (Join-Path $images 'red.png') -Width 40
    New-TestImage $Server (Join-Path $images 'blue.png') -Width 41 -Color blue | Out-Null
    [pscustomobject]@{ Folder = $folder; Images = $images; Red = $red }
}

function Invoke-FreshPwsh {
    <# Runs PowerShell arguments in a new process of the same PowerShell that runs this one (which may be 'dotnet pwsh'). #>
    param([Parameter(Mandatory)] [string[]] $Arguments)
    $exe = [Environment]::ProcessPath
    $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    & $exe @prefix @Arguments
}

function Start-FreshPwshFile {
    <#
    Starts a script file in a new process of the same PowerShell that runs this one (which may be 'dotnet pwsh')
    and returns the process at once, for tests that stop or kill it midway.
    #>
    param([Parameter(Mandatory)] [string] $Path, [string] $RedirectStandardOutput, [string[]] $ArgumentList = @())
    $exe = [Environment]::ProcessPath
    $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    $redirect = if ($RedirectStandardOutput) { @{ RedirectStandardOutput = $RedirectStandardOutput } } else { @{} }
    Start-Process -FilePath $exe -ArgumentList ($prefix + @('-NoProfile', '-NonInteractive', '-File', $Path) + $ArgumentList) -PassThru @redirect
}

function Invoke-FreshPwshScript {
    <# Runs a script block with arguments in a new PowerShell process; returns its output lines. #>
    param([Parameter(Mandatory)] [scriptblock] $ScriptBlock, [object[]] $ArgumentList = @())
    $quoted = foreach ($argument in $ArgumentList) { "'" + ([string]$argument).Replace("'", "''") + "'" }
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("& {$ScriptBlock} $($quoted -join ' ')"))
    # Text, not CLIXML, for the streams other than output when ours are redirected.
    Invoke-FreshPwsh -Arguments '-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', $encoded
}


function Set-ReadOnlyFolder {
    <#
    Makes a folder unwritable; true when it is. Root ignores permissions, so as root a read-only bind mount of the
    folder over itself, else plain permissions. Undo with Reset-ReadOnlyFolder.
    #>
    param([Parameter(Mandatory)] [string] $Path)
    if ((id -u) -eq '0') {
        mount --bind $Path $Path 2>$null
        if ($LASTEXITCODE -ne 0) { return $false }
        mount -o remount,bind,ro $Path 2>$null
        if ($LASTEXITCODE -eq 0) { return $true }
        umount $Path 2>$null
        return $false
    }
    chmod -R a-w $Path
    return $true
}

function Reset-ReadOnlyFolder {
    <# Undoes Set-ReadOnlyFolder. #>
    param([Parameter(Mandatory)] [string] $Path)
    if ((id -u) -eq '0') { umount $Path 2>$null } else { chmod -R u+w $Path }
}

function Find-Chromium {
    <# The path of a Chromium or Chrome to test pages with ($env:VLMCAPTION_CHROMIUM first); null when there is none. #>
    foreach ($name in @($env:VLMCAPTION_CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome') | Where-Object { $_ }) {
        $command = Get-Command $name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($command) { return $command.Source }
    }
    $null
}

function Invoke-HeadlessChromium {
    <#
    Loads a file in headless Chromium, lets its scripts run (up to -BudgetMs of virtual time), and returns the
    rendered DOM as text; with -Screenshot, also saves a PNG of the window. Gives up after -TimeoutSec and kills it.
    #>
    param(
        [Parameter(Mandatory)] [string] $Browser,
        [Parameter(Mandatory)] [string] $Path,
        [string] $Hash = '',
        [string] $Screenshot,
        [int] $BudgetMs = 5000,
        [int] $TimeoutSec = 90
    )
    $profile = Join-Path ([IO.Path]::GetTempPath()) ("vlmcaption-chromium-" + [guid]::NewGuid())
    $url = [Uri]::new((Resolve-Path -LiteralPath $Path).ProviderPath).AbsoluteUri + $Hash
    $arguments = @('--headless', '--disable-gpu', '--no-first-run', '--hide-scrollbars', "--user-data-dir=$profile", "--virtual-time-budget=$BudgetMs", '--window-size=1280,900')
    # As root Chromium refuses to start without giving up its sandbox.
    if ($IsLinux -and (id -u) -eq '0') { $arguments += '--no-sandbox' }
    $arguments += @(if ($Screenshot) { "--screenshot=$Screenshot" } else { '--dump-dom' })
    $arguments += $url
    $info = [Diagnostics.ProcessStartInfo]::new($Browser)
    foreach ($argument in $arguments) { $info.ArgumentList.Add($argument) }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($info)
    try {
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $null = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSec * 1000)) {
            $process.Kill($true)
            throw "Chromium did not finish loading '$Path' within $TimeoutSec s."
        }
        $stdout.GetAwaiter().GetResult()
        if ($env:VLMCAPTION_DEBUG_CHROMIUM) { Write-Host ($arguments -join " ") }
    }
    finally {
        if (-not $process.HasExited) { $process.Kill($true) }
        $process.Dispose()
        Remove-Item -LiteralPath $profile -Recurse -Force -ErrorAction SilentlyContinue
    }
}


function Start-Squid {
    <#
        Starts a real squid (Debian's /usr/sbin/squid, or $env:VLMCAPTION_SQUID) on a free loopback port as a
        forward proxy, with Basic authentication for User and Password when given; returns its address, access
        log and process, or null when there is no squid here.
    #>
    param([string] $Folder, [string] $User, [string] $Password)
    $squid = @($env:VLMCAPTION_SQUID, '/usr/sbin/squid') | Where-Object { $_ -and (Test-Path -LiteralPath $_) } | Select-Object -First 1
    if (-not $squid) { return $null }
    New-Item -ItemType Directory -Path $Folder -Force | Out-Null
    # Started as root, squid works as its own user ('proxy'), which must write its logs here.
    if (-not $IsWindows) { [IO.File]::SetUnixFileMode($Folder, [IO.UnixFileMode] 511) }
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $access = Join-Path $Folder 'access.log'
    $lines = @("http_port 127.0.0.1:$port")
    if ($User) {
        $hash = (& openssl passwd -apr1 $Password).Trim()
        Set-Content -LiteralPath (Join-Path $Folder 'passwd') -Value "${User}:$hash"
        $lines += "auth_param basic program /usr/lib/squid/basic_ncsa_auth $(Join-Path $Folder 'passwd')", 'auth_param basic realm vlmcaption-test', 'acl authed proxy_auth REQUIRED', 'http_access allow authed'
    }
    else {
        $lines += 'acl local src 127.0.0.1/32', 'http_access allow local'
    }
    $lines += 'http_access deny all', 'cache deny all', "access_log stdio:$access", "cache_log $(Join-Path $Folder 'cache.log')", "pid_filename $(Join-Path $Folder 'squid.pid')", "coredump_dir $Folder", 'shutdown_lifetime 0 seconds'
    $config = Join-Path $Folder 'squid.conf'
    Set-Content -LiteralPath $config -Value $lines
    $process = Start-Process -FilePath $squid -ArgumentList '-N', '-f', $config -PassThru -RedirectStandardOutput (Join-Path $Folder 'out.txt') -RedirectStandardError (Join-Path $Folder 'err.txt')
    $deadline = [datetime]::UtcNow.AddSeconds(30)
    while ([datetime]::UtcNow -lt $deadline -and -not $process.HasExited) {
        $client = [Net.Sockets.TcpClient]::new()
        try { $client.Connect('127.0.0.1', $port); break } catch { Start-Sleep -Milliseconds 100 } finally { $client.Dispose() }
    }
    if ($process.HasExited) { throw "squid did not start: $(Get-Content -Raw (Join-Path $Folder 'err.txt'))" }
    [pscustomobject]@{ Address = "http://127.0.0.1:$port"; AccessLog = $access; Process = $process }
}

function Stop-Squid {
    param($Squid)
    if ($Squid -and -not $Squid.Process.HasExited) { $Squid.Process.Kill(); $Squid.Process.WaitForExit(10000) | Out-Null }
}

function New-TestClip {
    <#
    Writes a clip with a real ffmpeg: one second of each solid colour in turn (ffmpeg's colour names; lime is the
    palette's green), so the reference server can say which frames it was sent, in which order. -Format picks
    the container; -AudioOnly writes a clip with a sound and no picture.
    #>
    param(
        [Parameter(Mandatory)] [string] $Path,
        [string[]] $Colors = @('red', 'lime', 'blue', 'yellow'),
        [string] $Size = '64x48',
        [switch] $AudioOnly
    )
    $ffmpeg = (Get-Command ffmpeg -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
    $arguments = @('-nostdin', '-v', 'error', '-y')
    if ($AudioOnly) {
        $arguments += @('-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', $Path)
    }
    else {
        foreach ($color in $Colors) { $arguments += @('-f', 'lavfi', '-i', "color=c=$($color):s=$($Size):d=1:r=10") }
        $inputs = -join (0..($Colors.Count - 1) | ForEach-Object { "[$_]" })
        $arguments += @('-filter_complex', "$($inputs)concat=n=$($Colors.Count):v=1:a=0", '-pix_fmt', 'yuv420p', $Path)
    }
    & $ffmpeg @arguments
    if ($LASTEXITCODE -ne 0) { throw "ffmpeg could not write '$Path'." }
    Get-Item -LiteralPath $Path
}

function New-TestWebpAnimation {
    <#
    Writes an animated WebP with a real libwebp (ffmpeg's libwebp_anim encoder, WebPAnimEncoder inside): one second
    of each lavfi source in turn. The encoder keeps only the rectangle that changed from a frame to the next and
    marks how to blend it, so a reader must compose frames as the container specification says to see them whole.
    #>
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [string[]] $Sources,
        [switch] $Lossless
    )
    $ffmpeg = (Get-Command ffmpeg -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
    $arguments = @('-nostdin', '-v', 'error', '-y')
    foreach ($source in $Sources) { $arguments += @('-f', 'lavfi', '-i', "$source,format=rgba") }
    $inputs = -join (0..($Sources.Count - 1) | ForEach-Object { "[$_]" })
    $arguments += @('-filter_complex', "$($inputs)concat=n=$($Sources.Count):v=1:a=0,format=$(if ($Lossless) { 'rgba' } else { 'yuva420p' })", '-c:v', 'libwebp_anim', '-lossless', $(if ($Lossless) { '1' } else { '0' }), '-loop', '0', $Path)
    & $ffmpeg @arguments
    if ($LASTEXITCODE -ne 0) { throw "ffmpeg could not write '$Path'." }
    Get-Item -LiteralPath $Path
}

Export-ModuleMember -Function New-RedBlueSet, Start-FreshPwshFile, New-TestWebpAnimation, New-TestClip, New-TestImageFolder, Invoke-FreshPwsh, Invoke-FreshPwshScript, Start-TestServer, Stop-TestServer, Reset-TestServer, Get-TestServerRequest, Get-TestServerStat, New-TestImage, Set-ReadOnlyFolder, Reset-ReadOnlyFolder, Find-Chromium, Invoke-HeadlessChromium, Start-Squid, Stop-Squid
