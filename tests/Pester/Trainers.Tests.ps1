# The files VlmCaption writes, read the way each trainer's own loader reads them (tests/TrainerLoaders.psm1 ports
# each rule from its source, with repository, commit, file and lines). An awkward dataset: spaces, brackets,
# commas, quotes, non-ASCII names in NFC and NFD, a.jpg beside a.png, sub/x.png beside other/x.png, nested
# folders, an answer in two paragraphs, two captions of one image. Every image must get exactly its own
# caption(s) from every trainer, or be named in a warning or an error.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1') -NoServer
    Import-Module (Join-Path $PSScriptRoot '../TrainerLoaders.psm1') -Force
    $server = Start-TestServer
    $root = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'set')).FullName
    $nfc = 'caf' + [char] 0xE9
    $nfd = 'cafe' + [char] 0x301
    $names = 'a.jpg', 'a.png', 'with space [1], "q".png', "$nfc.png", "$nfd.png", 'sub/x.png', 'other/x.png', 'deep/er/z.png', 'para.png', 'two.png'
    $width = 40
    $sizeOf = @{}
    foreach ($name in $names) {
        $path = Join-Path $root $name
        New-Item -ItemType Directory -Path (Split-Path $path) -Force | Out-Null
        $format = if ($name.EndsWith('.jpg')) { 'jpeg' } else { 'png' }
        # A width of its own for each image, so the reference server's caption tells them apart.
        New-TestImage $server $path -Width $width -Height 30 -Format $format | Out-Null
        $sizeOf[$name] = "${width}x30"
        $width++
    }
    $images = $names | ForEach-Object { [IO.Path]::GetFullPath((Join-Path $root $_)) }

    # A model that answers in paragraphs for para.png; two conversations for two.png.
    Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'paragraphs'; imageSize = $sizeOf['para.png'] }) }
    $one = $images | Where-Object { -not $_.EndsWith('two.png') }
    $results = @(Get-VlmCaption -LiteralPath $one -BaseUrl $server.BaseUrl -Model test) +
        @(Get-VlmCaption -LiteralPath (Join-Path $root 'two.png') -BaseUrl $server.BaseUrl -Model test -Count 2 -Temperature 1)
    $expected = @{}
    foreach ($result in $results) { $expected[$result.Path] = @($expected[$result.Path] | Where-Object { $_ }) + (($result.Caption.Trim() -replace '\s*[\r\n]+\s*', ' ')) }

    $results | Save-VlmCaption -ErrorVariable saveErrors -WarningVariable saveWarnings -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
    $imported = @(Import-VlmCaption $root -Recurse -Split -ErrorVariable importErrors -ErrorAction SilentlyContinue)

    function Export-Named {
        # Exports what Import-VlmCaption read back, the documented way; returns the paths named in its warnings and errors.
        param([string] $Format, [hashtable] $Extra = @{})
        $imported | Export-VlmDataset $Format -Root $root -Force @Extra -WarningVariable w -ErrorVariable e -WarningAction SilentlyContinue -ErrorAction SilentlyContinue | Out-Null
        $script:exportMessages = @($w) + @($e) + @($importErrors) + @($saveErrors) + @($saveWarnings) | ForEach-Object { "$_" }
    }

    function Assert-OwnCaptions {
        param([hashtable] $Read, [string[]] $Of = $images, [switch] $Whole)
        $messages = $script:exportMessages -join "`n"
        $wrong = foreach ($image in $Of) {
            $want = @($expected[$image])
            $named = $messages.Contains($image)
            if (-not $Read.ContainsKey($image)) {
                if (-not $named) { "$image : no caption, and no warning names it" }
                continue
            }
            $got = @($Read[$image])
            if ($Whole) { $got = @($got | ForEach-Object { $_.Trim() -replace '\s*[\r\n]+\s*', ' ' }) }
            if (($got -join '|') -cne ($want -join '|') -and -not $named) { "$image : got [$($got -join ' | ')], want [$($want -join ' | ')]" }
        }
        $wrong | Should -BeNullOrEmpty
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Caption files beside the images, as each trainer reads them' {
    BeforeAll { $script:exportMessages = @($importErrors) + @($saveErrors) + @($saveWarnings) | ForEach-Object { "$_" } }

    It 'writes an answer in paragraphs on one line, and several captions one a line' {
        $para = Get-Content -LiteralPath (Join-Path $root 'para.txt') -Raw
        $para | Should -Not -Match '[\r\n]'
        $para | Should -BeLike '*nothing else. Last line.'
        @(Get-Content -LiteralPath (Join-Path $root 'two.txt')).Count | Should -Be 2
    }

    It 'kohya sd-scripts (first line; with enable_wildcard, every line)' {
        $folders = $images | ForEach-Object { Split-Path $_ } | Sort-Object -Unique
        $first = @{}; $all = @{}
        foreach ($folder in $folders) {
            $f = Read-KohyaFolder -Directory $folder -CaptionExtension '.txt'
            foreach ($k in $f.Keys) { $first[$k] = $f[$k] }
            $f = Read-KohyaFolder -Directory $folder -CaptionExtension '.txt' -EnableWildcard
            foreach ($k in $f.Keys) { $all[$k] = $f[$k] }
        }
        Assert-OwnCaptions $all
        Assert-OwnCaptions $first -Of ($images | Where-Object { -not $_.EndsWith('two.png') })
    }

    It 'OneTrainer (every non-empty line is a caption)' { Assert-OwnCaptions (Read-OneTrainerCaption $images) }
    It 'SimpleTuner (split at line breaks)' { Assert-OwnCaptions (Read-SimpleTunerCaption $images) }
    It 'ai-toolkit (the whole file; one caption an image)' { Assert-OwnCaptions (Read-AiToolkitCaption $images) -Of ($images | Where-Object { -not $_.EndsWith('two.png') }) -Whole }

    It 'diffusion-pipe (the whole file, stripped; one caption an image without captions.json)' {
        $read = @{}
        foreach ($folder in $images | ForEach-Object { Split-Path $_ } | Sort-Object -Unique) { $f = Read-DiffusionPipeFolder $folder; foreach ($k in $f.Keys) { $read[$k] = $f[$k] } }
        Assert-OwnCaptions $read -Of ($images | Where-Object { -not $_.EndsWith('two.png') })
    }

    It 'Import-VlmCaption names both same-stem images and their file, and returns neither' {
        $a = Join-Path $root 'a.png'
        $imported.Path | Should -Not -Contain $a
        $imported.Path | Should -Not -Contain (Join-Path $root 'a.jpg')
        $conflict = @($importErrors | Where-Object FullyQualifiedErrorId -Like 'CaptionPathConflict*')
        $conflict.Count | Should -Be 2
        "$($conflict[0])" | Should -BeLike "*a.*a.*$(Join-Path $root 'a.txt')*Rename*"
    }
}

Describe 'Dataset files, as each trainer reads them' {
    It 'Hugging Face imagefolder: metadata.jsonl' {
        Export-Named ImageFolder
        Assert-OwnCaptions (Read-HfImageFolder $root jsonl)
    }

    It 'Hugging Face imagefolder: metadata.csv' {
        Remove-Item (Join-Path $root 'metadata.jsonl')
        Export-Named ImageFolderCsv
        Assert-OwnCaptions (Read-HfImageFolder $root csv)
        Remove-Item (Join-Path $root 'metadata.csv')
    }

    It 'kohya fine-tuning metadata, relative keys (v0.10+) and absolute keys, with image_size and no repeated key' {
        Export-Named Kohya
        $file = Join-Path $root 'meta_cap.json'
        Assert-OwnCaptions (Read-KohyaMetadata $file -ImageDir $root -EnableWildcard)
        $text = Get-Content -LiteralPath $file -Raw
        ([regex]::Matches($text, '"image_size"')).Count | Should -Be ([Linq.Enumerable]::Count([Linq.Enumerable]::Distinct([string[]] $imported.Path, [StringComparer]::Ordinal)))
        $meta = $text | ConvertFrom-Json -AsHashtable
        $meta['para.png'].image_size | Should -Be @(48, 30)
        Export-Named Kohya @{ PathStyle = 'Absolute' }
        Assert-OwnCaptions (Read-KohyaMetadata $file -ImageDir '/nonexistent' -EnableWildcard)
    }

    It 'kohya dataset config (subsets of one folder each, caption_extension .txt)' {
        Export-Named KohyaToml
        Assert-OwnCaptions (Read-KohyaDatasetConfig (Join-Path $root 'kohya_dataset.toml') -EnableWildcard)
    }

    It 'musubi-tuner image JSONL (caches named by base name), under its own default name' {
        Export-Named Musubi
        Assert-OwnCaptions (Read-MusubiJsonl (Join-Path $root 'musubi_images.jsonl') -WorkingFolder '/') -Of ($images | Where-Object { -not $_.EndsWith('two.png') })
        $script:exportMessages -join "`n" | Should -BeLike '*x.png*left out*x.png*'
        Export-Named Musubi @{ PathStyle = 'Relative' }
        Assert-OwnCaptions (Read-MusubiJsonl (Join-Path $root 'musubi_images.jsonl') -WorkingFolder $root) -Of ($images | Where-Object { -not $_.EndsWith('two.png') })
    }

    It 'musubi-tuner dataset config (a dataset and cache folder a folder)' {
        Export-Named MusubiToml
        Assert-OwnCaptions (Read-MusubiDatasetConfig (Join-Path $root 'musubi_dataset.toml') -WorkingFolder $root) -Of ($images | Where-Object { -not $_.EndsWith('two.png') })
    }

    It "diffusion-pipe captions.json (several captions an image)" {
        Export-Named DiffusionPipe
        $read = @{}
        foreach ($folder in $images | ForEach-Object { Split-Path $_ } | Sort-Object -Unique) { $f = Read-DiffusionPipeFolder $folder; foreach ($k in $f.Keys) { $read[$k] = $f[$k] } }
        Assert-OwnCaptions $read
        Get-ChildItem $root -Recurse -Filter captions.json | Remove-Item
    }

    It 'a plain CSV, read back by Import-Csv' {
        Export-Named Csv
        $read = @{}
        foreach ($row in Import-Csv (Join-Path $root 'captions.csv')) {
            $path = [IO.Path]::GetFullPath((Join-Path $root $row.file_name))
            $read[$path] = @($read[$path] | Where-Object { $_ }) + $row.caption
        }
        Assert-OwnCaptions $read
    }
}

Describe 'What a trainer would misread is said' {
    It 'warns of names Hugging Face takes for splits' {
        $set = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'splits/val') -Force
        $image = New-TestImage $server (Join-Path $set 'b.png')
        Test-HfSplitName 'val/b.png' | Should -BeTrue
        [pscustomobject]@{ Path = $image.FullName; Caption = 'c' } |
            Export-VlmDataset ImageFolder -Root (Split-Path $set) -WarningVariable w -WarningAction SilentlyContinue | Out-Null
        "$w" | Should -BeLike "*split ('val')*val/b.png*"
    }

    It 'neutralises CSV cells a spreadsheet would run, and keeps metadata.csv exact' {
        $image = Join-Path $root 'para.png'
        $row = [pscustomobject]@{ Path = $image; Caption = '=HYPERLINK("http://x")' }
        $csv = $row | Export-VlmDataset Csv -Root $root -Destination (Join-Path $TestDrive 'f.csv') -WarningVariable w -WarningAction SilentlyContinue
        (Import-Csv $csv.FullName).caption | Should -Be "'=HYPERLINK(""http://x"")"
        "$w" | Should -BeLike '*formula*apostrophe*'
        $exact = $row | Export-VlmDataset ImageFolderCsv -Root $root -Destination (Join-Path $TestDrive 'metadata.csv')
        (Import-Csv $exact.FullName).text | Should -Be '=HYPERLINK("http://x")'
    }

    It 'fails an image outside -Root alone, naming it, and writes the rest' {
        $outside = New-TestImage $server (Join-Path $TestDrive 'outside.png')
        $rows = [pscustomobject]@{ Path = $outside.FullName; Caption = 'out' }, [pscustomobject]@{ Path = (Join-Path $root 'para.png'); Caption = 'in' }
        $file = $rows | Export-VlmDataset ImageFolder -Root $root -Destination (Join-Path $TestDrive 'o.jsonl') -ErrorVariable e -ErrorAction SilentlyContinue
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ImageOutsideRoot*'
        "$($e[0])" | Should -BeLike "*$($outside.FullName)*"
        (Get-Content $file.FullName | ConvertFrom-Json).file_name | Should -Be 'para.png'
    }

    It 'keeps an answer''s line breaks when asked (keep_line_breaks / -KeepLineBreaks)' {
        $image = (New-TestImage $server (Join-Path $TestDrive 'keep.png')).FullName
        [pscustomobject]@{ Path = $image; Caption = "One.`n`nTwo." } | Save-VlmCaption -KeepLineBreaks
        Get-Content -LiteralPath (Join-Path $TestDrive 'keep.txt') -Raw | Should -Be "One.`n`nTwo."
    }

    It 'writes a run''s answer in paragraphs on one line' {
        $folder = New-TestImageFolder $server $TestDrive -Count 1
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'paragraphs' }) }
        $config = Join-Path $folder 'caption.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe.]`nbase_directory: ."

        Invoke-VlmCaptionRun $config | Out-Null
        $text = Get-Content -LiteralPath (Join-Path $folder 'i1.txt') -Raw
        $text | Should -BeLike '*. In the background, nothing else. Last line.'
    }
}

Describe 'Video clips, read by musubi-tuner''s own rules' {
    BeforeAll {
        # The loaders read names and captions only, so the clips need not be real video here.
        $clipRoot = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'videos')).FullName
        $clipNames = 'walks/a.mp4', 'walks/b.webm', 'more/a.mov', 'mixed/still.png', 'mixed/turn.MKV'
        $clipPaths = foreach ($name in $clipNames) {
            $path = Join-Path $clipRoot $name
            New-Item -ItemType Directory -Path (Split-Path $path) -Force | Out-Null
            if ($name.EndsWith('.png')) { New-TestImage $server $path | Out-Null } else { Set-Content -LiteralPath $path 'clip' }
            [IO.Path]::GetFullPath($path)
        }
        $clipCaptions = @{}
        foreach ($path in $clipPaths) { $clipCaptions[$path] = "the caption of $(Split-Path $path -Leaf)" }
        $clipCaptions.GetEnumerator() | ForEach-Object { [pscustomobject]@{ Path = $_.Key; Caption = $_.Value } } | Save-VlmCaption
        $clipItems = @(Import-VlmCaption $clipRoot -Recurse)

        function Assert-ClipCaptions([hashtable] $Read, [string[]] $Of, [string[]] $Named = @()) {
            $wrong = foreach ($path in $Of) {
                if ($Named -contains $path) { continue }
                if (@($Read[$path]) -join '|' -cne $clipCaptions[$path]) { "$path : got [$(@($Read[$path]) -join ' | ')], want [$($clipCaptions[$path])]" }
            }
            $wrong | Should -BeNullOrEmpty
        }
    }

    It 'writes clips as video_jsonl_file lines beside the images'' file, leaving out a clip whose cache name another has' {
        $clipItems | Export-VlmDataset Musubi -Root $clipRoot -Force -WarningVariable w -WarningAction SilentlyContinue | Out-Null

        $videos = Read-MusubiVideoJsonl (Join-Path $clipRoot 'musubi_videos.jsonl') -WorkingFolder '/'
        $stills = Read-MusubiJsonl (Join-Path $clipRoot 'musubi_images.jsonl') -WorkingFolder '/'
        $clips = $clipPaths | Where-Object { -not $_.EndsWith('.png') }
        $leftOut = @($clips | Where-Object { -not $videos.ContainsKey($_) })
        $leftOut.Count | Should -Be 1 -Because 'walks/a.mp4 and more/a.mov share the cache name a'
        "$w" | Should -BeLike "*$($leftOut[0])*left out*"
        Assert-ClipCaptions $videos -Of $clips -Named $leftOut
        Assert-ClipCaptions $stills -Of ($clipPaths | Where-Object { $_.EndsWith('.png') })
        $stills.Keys | Should -Not -Contain ($clipPaths | Where-Object { $_.EndsWith('.mp4') })
    }

    It 'writes clips into diffusion-pipe''s captions.json beside the images, which it reads as videos' {
        $clipItems | Export-VlmDataset DiffusionPipe -Root $clipRoot -Force -WarningAction SilentlyContinue | Out-Null

        $read = @{}
        foreach ($dir in $clipPaths | ForEach-Object { Split-Path $_ } | Sort-Object -Unique) { $f = Read-DiffusionPipeFolder $dir; foreach ($k in $f.Keys) { $read[$k] = $f[$k] } }
        Assert-ClipCaptions $read -Of $clipPaths
        Get-ChildItem $clipRoot -Recurse -Filter captions.json | Remove-Item
    }

    It 'gives a folder of clips a video_directory dataset, and a folder of both two datasets' {
        $clipItems | Export-VlmDataset MusubiToml -Root $clipRoot -Force -WarningAction SilentlyContinue | Out-Null

        $toml = Get-Content (Join-Path $clipRoot 'musubi_dataset.toml') -Raw
        ([regex]::Matches($toml, '(?m)^video_directory = ')).Count | Should -Be 3
        ([regex]::Matches($toml, '(?m)^image_directory = ')).Count | Should -Be 1
        Assert-ClipCaptions (Read-MusubiDatasetConfig (Join-Path $clipRoot 'musubi_dataset.toml') -WorkingFolder $clipRoot) -Of $clipPaths
    }
}
