<#
    How each trainer's own loader maps files to captions, ported line by line from its source so the tests can
    read what VlmCaption wrote the way the trainer will. Each function names the repository, commit, file and
    lines it follows; where the source changes, change the port, not the test's expectations.

    Every reader returns a hashtable: full image path -> string[] of the captions the trainer can draw for it
    (one for most; several where the trainer reads alternatives). An image the trainer would not find is absent.
#>

Set-StrictMode -Version 3.0

# Python's str.strip() with no argument: whitespace as str.isspace() defines it.
function ConvertTo-PyStrip([string] $Text) { $Text.Trim() }

# Python's text-mode readlines() (universal newlines: \n, \r and \r\n end a line), each line without its ending.
function Split-PyLines([string] $Text) {
    if ($Text.Length -eq 0) { return }
    $lines = [regex]::Split($Text, "\r\n|\r|\n")
    if ($lines[-1] -eq '') { $lines = $lines[0..($lines.Count - 2)] }
    $lines
}

function Read-Utf8([string] $Path) {
    # open(..., encoding='utf-8'): strict decoding; a BOM is kept as U+FEFF, as Python does.
    [IO.File]::ReadAllText($Path, [Text.UTF8Encoding]::new($false, $true))
}

function Get-PySplitext([string] $Path) {
    # os.path.splitext: the last dot of the name, unless the name starts with it.
    $name = [IO.Path]::GetFileName($Path)
    $dot = $name.LastIndexOf('.')
    if ($dot -le 0) { return $Path, '' }
    $cut = $Path.Length - ($name.Length - $dot)
    return $Path.Substring(0, $cut), $Path.Substring($cut)
}

# ---------------------------------------------------------------------------------------------------------------
# kohya-ss/sd-scripts 48d368fa, library/train_util.py

# IMAGE_EXTENSIONS (~line 110), without the optional avif/jxl.
$script:KohyaExtensions = '.png', '.jpg', '.jpeg', '.webp', '.bmp', '.PNG', '.JPG', '.JPEG', '.WEBP', '.BMP'

function Get-KohyaImage([string] $Directory) {
    # glob_images (~line 2847): glob(escape(directory) + '/*' + ext) for each extension; one folder, no hidden files.
    $found = foreach ($ext in $script:KohyaExtensions) {
        Get-ChildItem -LiteralPath $Directory -File | Where-Object { $_.Name.EndsWith($ext, [StringComparison]::Ordinal) -and -not $_.Name.StartsWith('.') } | ForEach-Object FullName
    }
    # Ordinal: Sort-Object -Unique takes canonically equal names (NFC and NFD) for one.
    @([Linq.Enumerable]::Distinct([string[]] @($found), [StringComparer]::Ordinal) | Sort-Object)
}

function Read-KohyaCaption([string] $ImagePath, [string] $CaptionExtension, [bool] $EnableWildcard) {
    # read_caption (lines 1946-1970): base_name + ext, then the face-crop name (tokens[:-4] of '_'-split stem).
    $base = (Get-PySplitext $ImagePath)[0]
    $tokens = $base.Split('_')
    $faceBase = if ($tokens.Count -ge 5) { $tokens[0..($tokens.Count - 5)] -join '_' } else { $base }
    foreach ($candidate in ($base + $CaptionExtension), ($faceBase + $CaptionExtension)) {
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            $lines = @(Split-PyLines (Read-Utf8 $candidate))
            if ($lines.Count -eq 0) { throw "caption file is empty: $candidate" }
            if ($EnableWildcard) {
                # the non-empty lines joined by \n; process_caption (~line 840) then draws one of them.
                return , @($lines | ForEach-Object { ConvertTo-PyStrip $_ } | Where-Object { $_ -ne '' })
            }
            return , @(ConvertTo-PyStrip $lines[0])
        }
    }
    return $null
}

function Read-KohyaFolder {
    <# A DreamBooth-style subset: every image glob_images finds in the folder, with read_caption's caption. #>
    param([string] $Directory, [string] $CaptionExtension = '.caption', [switch] $EnableWildcard)
    $map = @{}
    foreach ($image in Get-KohyaImage $Directory) {
        $caption = Read-KohyaCaption $image $CaptionExtension $EnableWildcard.IsPresent
        if ($null -ne $caption) { $map[$image] = $caption }
    }
    $map
}

function Read-KohyaMetadata {
    <#
        FineTuningDataset (lines 2242-2345): json.load (a repeated key keeps the last value); a key that is not
        absolute is joined to image_dir and opened as is (v0.10.0+). The image must exist there, or training stops.
        With enable_wildcard the caption's lines are alternatives (process_caption ~line 840). "tags" (lines
        2303-2339) is text joined to the caption with the subset's caption_separator (config_util.py line 59: ","):
        to each non-blank line with enable_wildcard (its own line breaks made separators first), else once.
    #>
    param([string] $MetadataFile, [string] $ImageDir, [switch] $EnableWildcard, [string] $CaptionSeparator = ',')
    $document = [Text.Json.JsonDocument]::Parse([IO.File]::ReadAllText($MetadataFile))
    $entries = [ordered]@{}
    foreach ($property in $document.RootElement.EnumerateObject()) { $entries[$property.Name] = $property.Value }
    $map = @{}
    foreach ($key in $entries.Keys) {
        $absolute = if ([IO.Path]::IsPathRooted($key)) { $key } else { [IO.Path]::Combine($ImageDir, $key) }
        if (-not (Test-Path -LiteralPath $absolute -PathType Leaf)) { continue }
        $value = $entries[$key]
        $caption = ''
        $element = [Text.Json.JsonElement]::new()
        if ($value.TryGetProperty('caption', [ref] $element)) { $caption = $element.GetString() }
        $tags = if ($value.TryGetProperty('tags', [ref] $element)) { $element.GetString() } else { $null }
        if ($EnableWildcard) {
            if ($null -ne $tags) {
                $tags = $tags.Replace("`n", $CaptionSeparator)
                $caption = (@($caption.Split("`n") | Where-Object { $_.Trim() -ne '' }) | ForEach-Object { "$_$CaptionSeparator$tags" }) -join "`n"
            }
        }
        elseif ($null -ne $tags -and $tags.Length -gt 0) {
            if ($caption.Length -gt 0) { $caption = $caption + $CaptionSeparator }
            $caption = $caption + $tags
        }
        $map[[IO.Path]::GetFullPath($absolute)] = if ($EnableWildcard) { , @($caption.Split("`n") | Where-Object { $_.Trim() -ne '' }) } else { , @($caption) }
    }
    $map
}

function Read-MiniToml([string] $Path) {
    <# The subset of TOML the dataset configs use: [table], [[array.of.tables]], key = "string" | int | bool | [ints]. #>
    $root = @{}
    $current = $root
    foreach ($raw in Get-Content -LiteralPath $Path) {
        $line = $raw.Trim()
        if ($line -eq '' -or $line.StartsWith('#')) { continue }
        if ($line -match '^\[\[(.+)\]\]$') {
            $parts = $Matches[1].Split('.')
            $parent = $root
            for ($i = 0; $i -lt $parts.Count - 1; $i++) { $parent = $parent[$parts[$i]][-1] }
            $name = $parts[-1]
            if (-not $parent.ContainsKey($name)) { $parent[$name] = [Collections.Generic.List[hashtable]]::new() }
            $current = @{}
            $parent[$name].Add($current)
        }
        elseif ($line -match '^\[(.+)\]$') { $current = @{}; $root[$Matches[1]] = $current }
        elseif ($line -match '^(\w+)\s*=\s*(.+)$') {
            $value = $Matches[2].Trim()
            $current[$Matches[1]] = if ($value.StartsWith('"')) { $value.Substring(1, $value.Length - 2) -replace '\\"', '"' -replace '\\\\', '\' }
            elseif ($value -in 'true', 'false') { $value -eq 'true' }
            elseif ($value.StartsWith('[')) { , @($value.Trim('[', ']').Split(',') | ForEach-Object { [int] $_.Trim() }) }
            else { [int] $value }
        }
    }
    $root
}

function Read-KohyaDatasetConfig {
    <#
        library/config_util.py: caption_extension and other subset keys ascend from [general] and [[datasets]]
        (DB_SUBSET_ASCENDABLE_SCHEMA, ~line 209; default ".caption", DreamBoothSubsetParams ~line 83); each subset's
        image_dir is read by glob_images and read_caption as above.
    #>
    param([string] $ConfigFile, [switch] $EnableWildcard)
    $toml = Read-MiniToml $ConfigFile
    $map = @{}
    foreach ($dataset in $toml['datasets']) {
        foreach ($subset in $dataset['subsets']) {
            $extension = ($subset['caption_extension'], $dataset['caption_extension'], $toml['general']['caption_extension'], '.caption' | Where-Object { $_ } | Select-Object -First 1)
            $folder = Read-KohyaFolder -Directory $subset['image_dir'] -CaptionExtension $extension -EnableWildcard:$EnableWildcard
            foreach ($key in $folder.Keys) { $map[$key] = $folder[$key] }
        }
    }
    $map
}

# ---------------------------------------------------------------------------------------------------------------
# Nerogar/OneTrainer 23df3832 with Nerogar/mgds 3a6994ad

function Read-OneTrainerCaption {
    <#
        OneTrainer modules/dataLoader/mixin/DataLoaderText2ImageMixin.py line 78: the prompt path is ModifyPath(
        extension='.txt'), i.e. splitext(image)[0] + '.txt' (mgds ModifyPath.py line 35). mgds LoadMultipleTexts.py:
        [line.strip() for line in f], empty lines dropped; SelectRandomText draws one a step.
    #>
    param([string[]] $Images)
    $map = @{}
    foreach ($image in $Images) {
        $path = (Get-PySplitext $image)[0] + '.txt'
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { continue }
        $map[$image] = @(Split-PyLines (Read-Utf8 $path) | ForEach-Object { ConvertTo-PyStrip $_ } | Where-Object { $_ -ne '' })
    }
    $map
}

# bghira/SimpleTuner bc8e6ab7, simpletuner/helpers/prompts.py lines 397-430 (caption_strategy=textfile)
function Read-SimpleTunerCaption {
    param([string[]] $Images)
    $map = @{}
    foreach ($image in $Images) {
        $path = (Get-PySplitext $image)[0] + '.txt'
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { continue }
        $text = Read-Utf8 $path
        # "any newlines? split into array" on "\n" only, empty strings removed, nothing stripped.
        $map[$image] = if ($text.Contains("`n")) { , @($text.Split("`n") | Where-Object { $_ -ne '' }) } else { , @($text) }
    }
    $map
}

# ostris/ai-toolkit 27a03a91, toolkit/dataloader_mixins.py lines 333-347: path_no_ext + caption_ext ('.txt'), the
# whole file; clean_caption (line 99) changes nothing.
function Read-AiToolkitCaption {
    param([string[]] $Images)
    $map = @{}
    foreach ($image in $Images) {
        $path = (Get-PySplitext $image)[0] + '.txt'
        if (Test-Path -LiteralPath $path -PathType Leaf) { $map[$image] = @(Read-Utf8 $path) }
    }
    $map
}

function Read-DiffusionPipeFolder {
    <#
        tdrussell/diffusion-pipe 8f83dbf2, utils/dataset.py lines 622-700: the folder's files (glob('*'), not
        subfolders), skipping .txt .npz .json .parquet .bak .db; with captions.json in the folder its entry for the
        file's name is the list of captions and no .txt is read; otherwise with_suffix('.txt'), read whole, stripped.
    #>
    param([string] $Directory)
    $captionsJson = Join-Path $Directory 'captions.json'
    $data = if (Test-Path -LiteralPath $captionsJson) { Get-Content -LiteralPath $captionsJson -Raw | ConvertFrom-Json -AsHashtable } else { $null }
    $map = @{}
    foreach ($file in Get-ChildItem -LiteralPath $Directory -File | Sort-Object Name) {
        if ($file.Extension -in '.txt', '.npz', '.json', '.parquet', '.bak', '.db') { continue }
        if ($null -ne $data) {
            if ($data.ContainsKey($file.Name)) { $map[$file.FullName] = @($data[$file.Name]) }
            continue
        }
        $txt = [IO.Path]::ChangeExtension($file.FullName, '.txt')
        if (Test-Path -LiteralPath $txt) { $map[$file.FullName] = @((Read-Utf8 $txt).Trim()) }
    }
    $map
}

# ---------------------------------------------------------------------------------------------------------------
# kohya-ss/musubi-tuner 30c658c4

function Get-MusubiCacheName([string] $ImagePath) {
    # image_video_dataset.py lines 165-168: splitext(basename(item_key))[0] + '_' + architecture + '_te.safetensors'.
    [IO.Path]::GetFileNameWithoutExtension($ImagePath)
}

function Resolve-MusubiCache([hashtable] $Captions) {
    <# Text-encoder caches are written one an item in order, so items sharing a cache name all train on the last one's. #>
    $last = @{}
    foreach ($image in $Captions.Keys | Sort-Object) { $last[(Get-MusubiCacheName $image)] = $Captions[$image] }
    $map = @{}
    foreach ($image in $Captions.Keys) { $map[$image] = $last[(Get-MusubiCacheName $image)] }
    $map
}

function Read-MusubiJsonl {
    <# src/musubi_tuner/dataset/datasources.py lines 276-300: json.loads each line; image_path opened as written (relative to the working folder). #>
    param([string] $JsonlFile, [string] $WorkingFolder)
    $captions = @{}
    foreach ($line in Get-Content -LiteralPath $JsonlFile) {
        $item = $line | ConvertFrom-Json
        $path = if ([IO.Path]::IsPathRooted($item.image_path)) { $item.image_path } else { [IO.Path]::Combine($WorkingFolder, $item.image_path) }
        if (Test-Path -LiteralPath $path -PathType Leaf) { $captions[[IO.Path]::GetFullPath($path)] = @($item.caption) }
    }
    Resolve-MusubiCache $captions
}

function Get-MusubiVideo([string] $Directory) {
    <# src/musubi_tuner/dataset/media_utils.py lines 34-55, 85-93: glob each of VIDEO_EXTENSIONS (lower and upper case, as written), sorted. #>
    $extensions = '.mp4', '.webm', '.avi', '.mkv', '.mov', '.flv', '.wmv', '.m4v', '.mpg', '.mpeg', '.MP4', '.WEBM', '.AVI', '.MKV', '.MOV', '.FLV', '.WMV', '.M4V', '.MPG', '.MPEG'
    @(Get-ChildItem -LiteralPath $Directory -File | Where-Object { $extensions -ccontains $_.Extension } | ForEach-Object FullName | Sort-Object -Unique)
}

function Read-MusubiVideoJsonl {
    <# src/musubi_tuner/dataset/datasources.py lines 583-596, 634-638: json.loads each line; video_path opened as written, caption as is. #>
    param([string] $JsonlFile, [string] $WorkingFolder)
    $captions = @{}
    foreach ($line in Get-Content -LiteralPath $JsonlFile) {
        $item = $line | ConvertFrom-Json
        $path = if ([IO.Path]::IsPathRooted($item.video_path)) { $item.video_path } else { [IO.Path]::Combine($WorkingFolder, $item.video_path) }
        if (Test-Path -LiteralPath $path -PathType Leaf) { $captions[[IO.Path]::GetFullPath($path)] = @($item.caption) }
    }
    Resolve-MusubiCache $captions
}

function Read-MusubiDatasetConfig {
    <#
        docs/dataset_config.md: [[datasets]] image_directory with caption_extension from [general] or the dataset;
        ImageDirectoryDatasource (datasources.py lines 63-80, 241-246): the folder's images, the caption file read
        whole and stripped; each dataset has its own cache_directory, so cache names collide only within one.
    #>
    param([string] $ConfigFile, [string] $WorkingFolder)
    $toml = Read-MiniToml $ConfigFile
    $map = @{}
    foreach ($dataset in $toml['datasets']) {
        $extension = ($dataset['caption_extension'], $toml['general']['caption_extension'] | Where-Object { $_ } | Select-Object -First 1)
        # VideoDirectoryDatasource (datasources.py lines 472-483, 550-555): the folder's clips, the caption file read whole and stripped.
        $video = $dataset.ContainsKey('video_directory')
        $folder = if ($video) { $dataset['video_directory'] } else { $dataset['image_directory'] }
        if (-not [IO.Path]::IsPathRooted($folder)) { $folder = [IO.Path]::Combine($WorkingFolder, $folder) }
        $captions = @{}
        foreach ($image in $(if ($video) { Get-MusubiVideo $folder } else { Get-KohyaImage $folder })) {
            $txt = (Get-PySplitext $image)[0] + $extension
            if (Test-Path -LiteralPath $txt) { $captions[$image] = @((Read-Utf8 $txt).Trim()) }
        }
        $resolved = Resolve-MusubiCache $captions
        foreach ($key in $resolved.Keys) { $map[$key] = $resolved[$key] }
    }
    $map
}

# ---------------------------------------------------------------------------------------------------------------
# huggingface/datasets b7cb10b0

function Test-HfSplitName([string] $Relative) {
    <#
        src/datasets/data_files.py lines 43-71 (fsspec >= 2023.12): KEYWORDS_IN_FILENAME_BASE_PATTERNS
        "**/{keyword}[{sep}]*", "**/*[{sep}]{keyword}[{sep}]*" and KEYWORDS_IN_DIR_NAME_BASE_PATTERNS
        "**/{keyword}/**", "**/{keyword}[{sep}]*/**", "**/*[{sep}]{keyword}/**", "**/*[{sep}]{keyword}[{sep}]*/**",
        sep = "-._ 0-9", as globs turned into regular expressions.
    #>
    $keywords = 'train', 'training', 'validation', 'valid', 'dev', 'val', 'test', 'testing', 'eval', 'evaluation'
    $sep = '[-._ 0-9]'
    foreach ($k in $keywords) {
        foreach ($glob in "(.*/)?$k$sep[^/]*", "(.*/)?[^/]*$sep$k$sep[^/]*", "(.*/)?$k/.*", "(.*/)?$k$sep[^/]*/.*", "(.*/)?[^/]*$sep$k/.*", "(.*/)?[^/]*$sep$k$sep[^/]*/.*") {
            if ($Relative -cmatch "^$glob$") { return $true }
        }
    }
    $false
}

function Read-HfImageFolder {
    <#
        src/datasets/packaged_modules/folder_based_builder/folder_based_builder.py lines 380-445: each metadata row
        is an example; file_name joined to the metadata file's folder, refused when absolute, '..' or '://'.
        data_files.py: when any file of the tree matches a split pattern, only split files are loaded and a root
        metadata file, which matches none, is not used: then no image gets its text.
    #>
    param([string] $Root, [ValidateSet('jsonl', 'csv')] [string] $Kind = 'jsonl')
    $all = Get-ChildItem -LiteralPath $Root -Recurse -File | ForEach-Object { $_.FullName.Substring($Root.TrimEnd('/').Length + 1).Replace('\', '/') }
    if (@($all | Where-Object { Test-HfSplitName $_ }).Count -gt 0) { return @{} }
    $file = Join-Path $Root "metadata.$Kind"
    $rows = if ($Kind -eq 'jsonl') { Get-Content -LiteralPath $file | ForEach-Object { $_ | ConvertFrom-Json } } else { Import-Csv -LiteralPath $file }
    $map = @{}
    foreach ($row in $rows) {
        $name = $row.file_name
        if ($name.Contains('://') -or [IO.Path]::IsPathRooted($name) -or $name -eq '..' -or $name.StartsWith('../')) { throw "imagefolder refuses file_name '$name'" }
        $path = [IO.Path]::GetFullPath([IO.Path]::Combine($Root, $name))
        $map[$path] = @($map[$path] | Where-Object { $null -ne $_ }) + $row.text
    }
    $map
}

Export-ModuleMember -Function Read-KohyaFolder, Read-KohyaMetadata, Read-KohyaDatasetConfig, Read-OneTrainerCaption, Read-SimpleTunerCaption, Read-AiToolkitCaption, Read-DiffusionPipeFolder, Read-MusubiJsonl, Read-MusubiVideoJsonl, Read-MusubiDatasetConfig, Read-HfImageFolder, Test-HfSplitName
