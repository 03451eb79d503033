# A folder of what a scraper leaves behind, captioned by a recursive run in a fresh process: each file is
# captioned correctly or refused with its own error, the rest goes on, and memory stays bounded.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'hostile')
    $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
    $sub = New-Item -ItemType Directory -Path (Join-Path $images 'sub')

    function Add-Image([string] $Name, [hashtable] $Spec = @{}) { New-TestImage $server (Join-Path $images $Name) @Spec | Out-Null }

    # Captioned, with the size the model must see.
    $expected = [ordered]@{
        'strip.png'          = '1x1536'
        'cmyk.jpg'           = '64x48'
        'deep16.png'         = '64x48'
        'palette-alpha.png'  = '64x48'
        'animated.gif'       = '64x48'
        'photo.webp'         = '64x48'
        'scan.tiff'          = '64x48'
        'rotated.jpg'        = '30x90'
        '[brackets].png'     = '64x48'
        'star*and?.png'      = '64x48'
        "quote'.png"         = '64x48'
        'with space.png'     = '64x48'
        'emoji 😀.png'        = '64x48'
        'rtl עברית.png'       = '64x48'
        'pair.jpg'           = '64x48'
        'sub/nested.png'     = '64x48'
    }
    Add-Image 'strip.png' @{ Width = 1; Height = 60000 }
    Add-Image 'cmyk.jpg' @{ Format = 'jpeg'; Cmyk = $true }
    Add-Image 'deep16.png' @{ Bits16 = $true }
    Add-Image 'palette-alpha.png' @{ Palette = $true; Alpha = $true }
    Add-Image 'animated.gif' @{ Format = 'gif'; Frames = 3 }
    Add-Image 'photo.webp' @{ Format = 'webp' }
    Add-Image 'scan.tiff' @{ Format = 'tiff' }
    Add-Image 'rotated.jpg' @{ Format = 'jpeg'; Width = 90; Height = 30; Orientation = 6 }
    foreach ($name in '[brackets].png', 'star*and?.png', "quote'.png", 'with space.png', 'emoji 😀.png', 'rtl עברית.png', 'pair.png', 'blocked.png') { Add-Image $name }
    Add-Image 'pair.jpg' @{ Format = 'jpeg' }
    Add-Image 'sub/nested.png'

    # Refused, each with its error.
    $refused = [ordered]@{
        'zero.png'          = 'ImageDecodeFailed'
        'text.png'          = 'ImageDecodeFailed'
        'truncated.png'     = 'ImageDecodeFailed'
        'bomb.png'          = 'ImageTooLarge'
        'huge.jpg'          = 'ImageDecodeFailed'
        'pair.png'          = 'CaptionPathConflict'
        'blocked.png'       = 'CaptionWriteFailed'
    }
    New-Item -ItemType File -Path (Join-Path $images 'zero.png') | Out-Null
    Set-Content -LiteralPath (Join-Path $images 'text.png') -Value 'This is a text file named .png'
    $whole = [IO.File]::ReadAllBytes((New-TestImage $server (Join-Path $TestDrive 'whole.png') -Width 300 -Height 300).FullName)
    [IO.File]::WriteAllBytes((Join-Path $images 'truncated.png'), $whole[0..($whole.Length / 2)])
    New-TestImage $server (Join-Path $images 'bomb.png') -Width 50000 -Height 50000 -DeclareOnly | Out-Null
    $huge = [IO.File]::Create((Join-Path $images 'huge.jpg')); $huge.Write([byte[]](0xFF, 0xD8, 0xFF, 0xE0), 0, 4); $huge.SetLength(200MB); $huge.Dispose()
    # The caption of blocked.png cannot be written: a folder stands where its .txt would go.
    New-Item -ItemType Directory -Path (Join-Path $images 'blocked.txt') | Out-Null
    # A truncated JPEG either decodes what is there or is refused; both are fine, a crash is not.
    $jpeg = [IO.File]::ReadAllBytes((New-TestImage $server (Join-Path $TestDrive 'whole.jpg') -Format jpeg -Width 300 -Height 300).FullName)
    [IO.File]::WriteAllBytes((Join-Path $images 'cut-short.jpg'), $jpeg[0..($jpeg.Length / 3)])
    # A link loop under the recursive walk.
    New-Item -ItemType SymbolicLink -Path (Join-Path $sub 'loop') -Target $images | Out-Null

    $config = Join-Path $folder 'caption.yaml'
    Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe.]`nbase_directory: images`nrecursive: true`nconcurrent_batch_size: 8`nmax_consecutive_failures: 0"
    $script = {
        param($Module, $Config)
        Import-Module $Module
        $summary = Invoke-VlmCaptionRun $Config -ErrorAction SilentlyContinue -WarningVariable warnings -WarningAction SilentlyContinue
        [pscustomobject]@{
            Summary  = $summary
            Warnings = @($warnings | ForEach-Object ToString)
            PeakMB   = [math]::Round([Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64 / 1MB)
        } | ConvertTo-Json -Depth 5 -Compress
    }
    $report = (Invoke-FreshPwshScript $script -ArgumentList $env:VLMCAPTION_MODULE, $config | Select-Object -Last 1) | ConvertFrom-Json
    $failures = @{}
    foreach ($failure in $report.Summary.Failures) { $failures[[IO.Path]::GetRelativePath($images, $failure.Path)] = $failure.ErrorId }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Hostile and odd inputs' {
    It 'captions <_> with its true size' -ForEach @(
        'strip.png', 'cmyk.jpg', 'deep16.png', 'palette-alpha.png', 'animated.gif', 'photo.webp', 'scan.tiff', 'rotated.jpg',
        '[brackets].png', 'star*and?.png', "quote'.png", 'with space.png', 'emoji 😀.png', 'rtl עברית.png', 'pair.jpg', 'sub/nested.png'
    ) {
        $caption = Join-Path $images ([IO.Path]::ChangeExtension($_, '.txt'))
        Get-Content -LiteralPath $caption -Raw | Should -BeLike "* image, $($expected[$_]) pixels*"
    }

    It 'refuses <_> with its own error' -ForEach @('zero.png', 'text.png', 'truncated.png', 'bomb.png', 'huge.jpg', 'pair.png', 'blocked.png') {
        $failures[$_] | Should -Be $refused[$_]
        if ($_ -ne 'pair.png' -and $_ -ne 'blocked.png') {
            Test-Path -LiteralPath (Join-Path $images ([IO.Path]::ChangeExtension($_, '.txt'))) | Should -BeFalse
        }
    }

    It 'does not follow the link loop, and says so' {
        $report.Warnings | Should -Contain "'$(Join-Path $sub 'loop')' is a link to another folder and is not followed."
    }

    It 'accounts for every file, and stays within bounded memory' {
        $summary = $report.Summary
        $summary.Succeeded | Should -BeGreaterOrEqual $expected.Count
        $summary.Total | Should -Be ($summary.Succeeded + $summary.Failed)
        $summary.Failed | Should -BeGreaterOrEqual $refused.Count
        @(Get-ChildItem $images -Recurse -Force -Filter *.tmp) | Should -BeNullOrEmpty
        Write-Host "    $($summary.Total) files: $($summary.Succeeded) captioned, $($summary.Failed) refused; peak working set of the run's process: $($report.PeakMB) MB"
        $report.PeakMB | Should -BeLessThan 1024
    }
}

Describe 'Sidecars stay sidecars' {
    It 'reads no path that a crafted metadata.json names' {
        $dir = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'crafted')
        $secretFile = Join-Path $TestDrive 'outside-secret.txt'
        Set-Content $secretFile 'TOP-SECRET-CONTENT'
        Set-Content (Join-Path $dir 'metadata.json') "{`"global_metadata_file`": `"$secretFile`", `"include`": `"../outside-secret.txt`"}"
        $image = New-TestImage $server (Join-Path $dir 'a.png')
        Reset-TestServer $server
        Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl -Model test -HintSource metadata, json | Out-Null
        $sent = (Get-TestServerRequest $server)[0].body | ConvertTo-Json -Depth 10
        $sent | Should -Not -Match 'TOP-SECRET-CONTENT'
        $sent | Should -Match 'outside-secret.txt'
    }
}
