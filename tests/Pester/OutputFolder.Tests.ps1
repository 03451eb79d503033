# Captions written to another tree (output_directory, -Destination) for read-only image shares, and several
# captions per image (captions_per_image, -Count).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')

    # A dataset: two images at the top, one in a subfolder, each a different width so answers differ.
    function New-Dataset([string] $Folder) {
        $images = New-Item -ItemType Directory -Path (Join-Path $Folder 'share') -Force
        $sub = New-Item -ItemType Directory -Path (Join-Path $images 'people') -Force
        New-TestImage $server (Join-Path $images 'a.png') -Width 21 | Out-Null
        New-TestImage $server (Join-Path $images 'b.png') -Width 22 | Out-Null
        New-TestImage $server (Join-Path $sub 'c.png') -Width 23 | Out-Null
        $images
    }

    function New-Config([string] $Folder, [string] $Extra = '', [string] $Prompts = '[Describe the image.]') {
        $path = Join-Path $Folder 'caption.yaml'
        Set-Content -LiteralPath $path -Value @"
base_url: $($server.BaseUrl)
model: test
prompts: $Prompts
base_directory: share
recursive: true
skip_if_caption_exists: true
$Extra
"@
        $path
    }

    # Every file under a folder, as paths relative to it with forward slashes, sorted.
    function Get-Tree([string] $Folder) {
        @(Get-ChildItem -LiteralPath $Folder -Recurse -File -Force | ForEach-Object {
            $_.FullName.Substring($Folder.Length + 1).Replace('\', '/')
        } | Sort-Object)
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Output folder' {
    BeforeEach {
        Reset-TestServer $server
        $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        $share = New-Dataset $root
    }

    It 'writes captions into output_directory mirroring the folders, leaves the image folders untouched, and resumes there' {
        $config = New-Config $root 'output_directory: captions'
        $before = Get-Tree $share

        $summary = Invoke-VlmCaptionRun $config
        $summary.Succeeded | Should -Be 3
        Get-Tree $share | Should -Be $before
        Get-Tree (Join-Path $root 'captions') | Should -Be @('a.txt', 'b.txt', 'people/c.txt')
        Get-Content -Raw (Join-Path $root 'captions/people/c.txt') | Should -BeLike 'Red * image, 23x48 pixels.*'

        # Resume: the captions in the output folder count, so nothing is sent again; one removed is redone.
        Remove-Item (Join-Path $root 'captions/b.txt')
        Reset-TestServer $server
        $again = Invoke-VlmCaptionRun $config
        $again.Succeeded | Should -Be 1
        $again.Skipped | Should -Be 2
        @(Get-TestServerRequest $server).Count | Should -Be 1
        Test-Path (Join-Path $root 'captions/b.txt') | Should -BeTrue
        # No claim file is left, in either tree.
        @(Get-ChildItem -LiteralPath $root -Recurse -Force -Filter '.vlmcaption-*') | Should -BeNullOrEmpty
    }

    It 'captions a read-only image share (a folder it cannot write) into -Destination' -Skip:($IsWindows) {
        $config = New-Config $root
        $readOnly = Set-ReadOnlyFolder $share
        try {
            if (-not $readOnly) { Set-ItResult -Skipped -Because 'the image folder could not be made read-only here' ; return }
            { Set-Content -LiteralPath (Join-Path $share 'probe.txt') -Value x -ErrorAction Stop } | Should -Throw

            $summary = Invoke-VlmCaptionRun $config -Destination (Join-Path $root 'out')
            $summary.Succeeded | Should -Be 3
            $summary.Failed | Should -Be 0
            Get-Tree (Join-Path $root 'out') | Should -Be @('a.txt', 'b.txt', 'people/c.txt')
        }
        finally {
            if ($readOnly) { Reset-ReadOnlyFolder $share }
        }
    }

    It 'removes an old temporary file a killed write left in the output folder, and keeps a new one' {
        $config = New-Config $root 'output_directory: captions'
        $out = New-Item -ItemType Directory -Path (Join-Path $root 'captions/people') -Force
        $old = Join-Path $out '.vlmcaption-0123456789abcdef.tmp'
        $new = Join-Path $out '.vlmcaption-fedcba9876543210.tmp'
        Set-Content -LiteralPath $old -Value 'half'
        Set-Content -LiteralPath $new -Value 'in use'
        (Get-Item -LiteralPath $old -Force).LastWriteTimeUtc = [datetime]::UtcNow.AddMinutes(-20)
        (Invoke-VlmCaptionRun $config).Succeeded | Should -Be 3
        Test-Path -LiteralPath $old | Should -BeFalse
        Test-Path -LiteralPath $new | Should -BeTrue
    }

    It 'appends jsonl lines in the output folder and skips by model there' {
        $config = New-Config $root "output_format: jsonl`noutput_directory: captions"
        (Invoke-VlmCaptionRun $config).Succeeded | Should -Be 3
        Get-Tree (Join-Path $root 'captions') | Should -Be @('a.jsonl', 'b.jsonl', 'people/c.jsonl')
        $line = Get-Content (Join-Path $root 'captions/a.jsonl') | ConvertFrom-Json
        $line.model | Should -Be 'test'
        (Invoke-VlmCaptionRun $config).Skipped | Should -Be 3
    }

    It 'reads the current caption for the existing_caption hint from the output folder' {
        $config = New-Config $root "output_directory: captions`nhint_sources: [existing_caption]"
        New-Item -ItemType Directory (Join-Path $root 'captions') | Out-Null
        Set-Content -LiteralPath (Join-Path $root 'captions/a.txt') -Value 'a red square, old caption' -NoNewline
        Invoke-VlmCaptionRun $config -Existing Overwrite | Out-Null
        $texts = Get-TestServerRequest $server | ForEach-Object { ($_.body.messages[-1].content | Where-Object type -EQ 'text').text -join '' }
        @($texts | Where-Object { $_ -like '*Existing caption:*a red square, old caption*' }).Count | Should -Be 1
    }

    It 'refuses an output folder that is a file before any request' {
        Set-Content -LiteralPath (Join-Path $root 'captions') -Value 'not a folder'
        $config = New-Config $root 'output_directory: captions'
        { Invoke-VlmCaptionRun $config -ErrorAction Stop } | Should -Throw -ErrorId 'OutputDirectoryIsFile,*'
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }

    It 'shows the output folder in -WhatIf and writes nothing' {
        $config = New-Config $root 'output_directory: captions'
        $output = Invoke-FreshPwshScript { param($Module, $Config) Import-Module $Module; Invoke-VlmCaptionRun $Config -WhatIf } -ArgumentList $env:VLMCAPTION_MODULE, $config
        ($output -join "`n") | Should -Match "What if:.*Caption, writing into '.*captions'"
        Test-Path (Join-Path $root 'captions') | Should -BeFalse
    }

    It 'Get-VlmCaption -SkipExisting looks in -Destination, and Save-VlmCaption -Destination writes there' {
        $out = Join-Path $root 'out'
        Push-Location $share
        try {
            Get-ChildItem -Recurse -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test | Save-VlmCaption -Destination $out
            Get-Tree $out | Should -Be @('a.txt', 'b.txt', 'people/c.txt')
            Reset-TestServer $server
            @(Get-ChildItem -Recurse -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -SkipExisting -Destination $out) | Should -BeNullOrEmpty
            @(Get-TestServerRequest $server).Count | Should -Be 0
        }
        finally { Pop-Location }
    }

    It 'fails an image outside the mirrored tree alone, with a clear error' {
        $outside = New-TestImage $server (Join-Path $root 'stray.png') -Width 30
        $images = @($outside.FullName) + @(Get-ChildItem $share -Filter *.png | ForEach-Object FullName)
        $results = @(Get-VlmCaption -LiteralPath $images -BaseUrl $server.BaseUrl -Model test -BaseDirectory $share -Destination (Join-Path $root 'out') -ErrorVariable errors -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 2
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'OutsideBaseDirectory,*'
        $errors[0].Exception.Message | Should -BeLike "*stray.png' is not under*"
    }

    It 'Import-VlmCaption reads the output folder, and edited captions save back to the files they came from' {
        $config = New-Config $root 'output_directory: captions'
        Invoke-VlmCaptionRun $config | Out-Null

        $read = @(Import-VlmCaption -Config $config -LiteralPath $share -Recurse)
        $read.Count | Should -Be 3
        $read.CaptionFile | ForEach-Object { $_ | Should -BeLike (Join-Path $root 'captions*') }

        # Through a CSV and back: the CaptionFile column takes each caption home.
        $csv = Join-Path $root 'edit.csv'
        $read | Select-Object PSPath, Caption, CaptionFile | Export-Csv -LiteralPath $csv
        (Import-Csv $csv) | ForEach-Object { $_.Caption = 'edited: ' + $_.Caption; $_ } | Save-VlmCaption -Force
        Get-Content -Raw (Join-Path $root 'captions/people/c.txt') | Should -BeLike 'edited: Red **'
        Get-ChildItem $share -Recurse -Filter *.txt | Should -BeNullOrEmpty
    }

    It 'does not write back to a CaptionFile that is not a caption file of the image' {
        $image = Join-Path $share 'a.png'
        [pscustomobject]@{ PSPath = $image; Caption = 'safe'; CaptionFile = (Join-Path $share 'b.png') } | Save-VlmCaption -Force
        (Get-Item (Join-Path $share 'b.png')).Length | Should -BeGreaterThan 20
        Get-Content -Raw (Join-Path $share 'a.txt') | Should -Be 'safe'
    }
}

Describe 'Several captions per image' {
    BeforeEach {
        Reset-TestServer $server
        $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        $share = New-Dataset $root
    }

    It 'runs N independent conversations and writes them as N lines of the caption file' {
        $config = New-Config $root "captions_per_image: 3`ntemperature: 0.8" -Prompts '[Describe the image., Shorten it.]'
        $summary = Invoke-VlmCaptionRun $config
        $summary.Succeeded | Should -Be 3
        # 3 images x 3 conversations x 2 turns.
        @(Get-TestServerRequest $server).Count | Should -Be 18
        $lines = @(Get-Content (Join-Path $share 'people/c.txt'))
        $lines.Count | Should -Be 3
        $lines | ForEach-Object { $_ | Should -BeLike 'Red * image, 23x48 pixels. Turn 2.*Sample *' }
        @($lines | Sort-Object -Unique).Count | Should -Be 3
        # Each conversation is independent: its second turn carries its own first answer only.
        $second = Get-TestServerRequest $server | Where-Object { $_.body.messages.Count -ge 3 }
        $second | ForEach-Object { @($_.body.messages | Where-Object role -EQ 'assistant').Count | Should -Be 1 }
    }

    It 'writes N jsonl lines in one write, and prefix each caption' {
        $config = New-Config $root "captions_per_image: 2`ntemperature: 0.5`noutput_format: jsonl`nprefix: 'ohwx, '"
        (Invoke-VlmCaptionRun $config).Succeeded | Should -Be 3
        $entries = @(Get-Content (Join-Path $share 'a.jsonl') | ConvertFrom-Json)
        $entries.Count | Should -Be 2
        $entries.text | ForEach-Object { $_ | Should -BeLike 'ohwx, Red **' }
        (Invoke-VlmCaptionRun $config).Skipped | Should -Be 3
    }

    It 'Get-VlmCaption -Count emits N results per image, which Save-VlmCaption writes as one file' {
        $results = @(Get-VlmCaption -LiteralPath (Join-Path $share 'a.png') -BaseUrl $server.BaseUrl -Model test -Count 3 -Temperature 1)
        $results.Count | Should -Be 3
        $results.CaptionIndex | Should -Be @(1, 2, 3)
        $results.CaptionCount | Should -Be @(3, 3, 3)
        $results | Save-VlmCaption -Prefix 'ohwx, '
        $lines = @(Get-Content (Join-Path $share 'a.txt'))
        $lines.Count | Should -Be 3
        $lines | ForEach-Object { $_ | Should -BeLike 'ohwx, Red * image, 21x48*' }

        # Filtered upstream, the captions that arrive are still written together.
        $results | Where-Object CaptionIndex -NE 2 | Save-VlmCaption -Force
        @(Get-Content (Join-Path $share 'a.txt')).Count | Should -Be 2
    }

    It 'reads a multi-caption file back as one object a line with -Split, and saves the edited lines as one file' {
        $config = New-Config $root "captions_per_image: 3`ntemperature: 0.7"
        (Invoke-VlmCaptionRun $config).Succeeded | Should -Be 3
        $file = Join-Path $share 'a.txt'
        $lines = @(Get-Content $file)
        $read = @(Import-VlmCaption -LiteralPath (Join-Path $share 'a.png') -Split)
        $read.Count | Should -Be 3
        $read.Caption | Should -Be $lines
        $read.CaptionIndex | Should -Be @(1, 2, 3)
        $read | ForEach-Object { $_.Caption = "ohwx, $($_.Caption)"; $_ } | Save-VlmCaption -Force
        @(Get-Content $file) | Should -Be @($lines | ForEach-Object { "ohwx, $_" })
        @(Import-VlmCaption -LiteralPath (Join-Path $share 'a.png')).Count | Should -Be 1
    }

    It 'keeps a multi-line answer on one line when an image has several captions' {
        $extra = @'
captions_per_image: 2
temperature: 0.5
replacements:
  - pattern: '\. Turn'
    replacement: ".\n\nTurn"
'@
        $config = New-Config $root $extra
        (Invoke-VlmCaptionRun $config).Succeeded | Should -Be 3
        $lines = @(Get-Content (Join-Path $share 'a.txt'))
        $lines.Count | Should -Be 2
        $lines[0] | Should -BeLike 'Red * image, 21x48 pixels. Turn 1.*'
    }

    It 'fails an image whose second conversation fails, writing none of its captions' {
        # One prompt: the second request is the image's second conversation.
        Reset-TestServer $server @{ models = @('test'); faults = @(@{ kind = 'status'; status = 400; requests = @(2) }) }
        $folder = New-TestImageFolder $server $root -Count 1
        $results = @(Get-VlmCaption -LiteralPath (Join-Path $folder 'i1.png') -BaseUrl $server.BaseUrl -Model test -Count 2 -ErrorVariable errors -ErrorAction SilentlyContinue)
        $results | Should -BeNullOrEmpty
        $errors.Count | Should -Be 1
    }

    It 'warns that temperature 0 gives the same caption N times' {
        Get-VlmCaption -LiteralPath (Join-Path $share 'a.png') -BaseUrl $server.BaseUrl -Model test -Count 2 -Temperature 0 -WarningVariable warnings | Out-Null
        $warnings | Should -BeLike '*temperature 0*same caption 2 times*'
    }

    It 'refuses captions_per_image out of range before any request' {
        $config = New-Config $root 'captions_per_image: 0'
        { Invoke-VlmCaptionRun $config -ErrorAction Stop } | Should -Throw "*captions_per_image*"
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }
}
