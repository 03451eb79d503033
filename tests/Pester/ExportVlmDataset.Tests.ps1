# Captions handed to a trainer as one file in its own format.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'set')
    $sub = New-Item -ItemType Directory -Path (Join-Path $root 'sub')
    New-TestImage $server (Join-Path $root 'a.png') -Width 40 -Height 30 | Out-Null
    New-TestImage $server (Join-Path $sub 'b.jpg') -Width 20 -Height 50 -Format jpeg -Orientation 6 | Out-Null
    Set-Content -LiteralPath (Join-Path $root 'a.txt') 'A "quoted", comma caption.' -NoNewline
    Set-Content -LiteralPath (Join-Path $sub 'b.txt') "Two`nlines <é>" -NoNewline
    $captions = @(Import-VlmCaption $root -Recurse)
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Export-VlmDataset' {
    It 'writes a Hugging Face imagefolder metadata.jsonl with paths relative to the root' {
        $file = $captions | Export-VlmDataset ImageFolder -Root $root -Force
        $file.FullName | Should -Be (Join-Path $root 'metadata.jsonl')
        $lines = Get-Content -LiteralPath $file.FullName | ForEach-Object { $_ | ConvertFrom-Json }
        $lines.file_name | Should -Be @('a.png', 'sub/b.jpg')
        $lines[1].text | Should -Be "Two`nlines <é>"
    }

    It 'writes metadata.csv and a CSV with the upright image sizes that Import-Csv reads back' {
        $csv = $captions | Export-VlmDataset ImageFolderCsv -Root $root -Force
        $rows = @(Import-Csv -LiteralPath $csv.FullName)
        $rows[0].file_name | Should -Be 'a.png'
        $rows[0].text | Should -Be 'A "quoted", comma caption.'
        $plain = $captions | Export-VlmDataset Csv -Root $root -Force
        $sized = @(Import-Csv -LiteralPath $plain.FullName)
        "$($sized[0].width)x$($sized[0].height)" | Should -Be '40x30'
        "$($sized[1].width)x$($sized[1].height)" | Should -Be '50x20' -Because 'EXIF orientation 6 turns the 20x50 image on its side'
    }

    It "writes kohya's metadata keyed by the path with its extension, and musubi-tuner's image_path lines" {
        $kohya = $captions | Export-VlmDataset Kohya -Root $root -Force
        $meta = Get-Content -LiteralPath $kohya.FullName -Raw | ConvertFrom-Json -AsHashtable
        $meta.Keys | Sort-Object | Should -Be @('a.png', 'sub/b.jpg')
        $meta['sub/b.jpg'].image_size | Should -Be @(50, 20) -Because 'image_size is the upright size'
        $meta['a.png'].caption | Should -Be 'A "quoted", comma caption.'
        $musubi = $captions | Export-VlmDataset Musubi -Destination (Join-Path $TestDrive 'musubi.jsonl')
        $lines = Get-Content -LiteralPath $musubi.FullName | ForEach-Object { $_ | ConvertFrom-Json }
        $lines[0].image_path | Should -Be (Join-Path $root 'a.png')
        $lines[1].caption | Should -Be "Two lines <é>" -Because 'musubi reads one caption an image, on one line'
    }

    It 'refuses an image outside the root, an existing file without -Force, and writes nothing with -WhatIf' {
        { $captions | Export-VlmDataset ImageFolder -Root $sub -Destination (Join-Path $TestDrive 'x.jsonl') -ErrorAction Stop } | Should -Throw -ErrorId 'ImageOutsideRoot,*'
        Test-Path (Join-Path $TestDrive 'x.jsonl') | Should -BeFalse
        { $captions | Export-VlmDataset ImageFolder -Root $root -ErrorAction Stop } | Should -Throw -ErrorId 'CaptionExists,*'
        $captions | Export-VlmDataset Csv -Root $root -Destination (Join-Path $TestDrive 'whatif.csv') -WhatIf
        Test-Path (Join-Path $TestDrive 'whatif.csv') | Should -BeFalse
    }

    It "gives results the original image's upright size beside the size sent" {
        Reset-TestServer $server
        $big = New-TestImage $server (Join-Path $TestDrive 'big.jpg') -Width 800 -Height 400 -Format jpeg -Orientation 6
        $result = Get-VlmCaption -LiteralPath $big.FullName -BaseUrl $server.BaseUrl -Model test -MaxImageSize 200
        "$($result.Width)x$($result.Height)" | Should -Be '400x800'
        "$($result.SentWidth)x$($result.SentHeight)" | Should -Be '100x200'
    }

    It 'leaves truncated captions out unless asked' {
        $cut = [pscustomobject]@{ Path = (Join-Path $root 'a.png'); Caption = 'cut'; Status = 'Truncated' }
        $cut | Export-VlmDataset Csv -Root $root -Destination (Join-Path $TestDrive 'cut.csv') -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings[0] | Should -BeLike '*truncated*'
        $cut | Export-VlmDataset Csv -Root $root -Destination (Join-Path $TestDrive 'cut.csv') -IncludeTruncated | Should -Not -BeNullOrEmpty
    }
}
