# Every exported cmdlet is documented completely, its help matches the cmdlet, and every example runs.
BeforeDiscovery {
    Import-Module $env:VLMCAPTION_MODULE -Force
    $cmdlets = @((Get-Module VlmCaption).ExportedCmdlets.Keys | ForEach-Object { @{ Name = $_ } })
    Import-Module (Join-Path $PSScriptRoot '../../build/Help.psm1') -Force
    $examples = foreach ($file in Get-ChildItem (Join-Path $PSScriptRoot '../../docs/en-US') -Filter '*-*.md') {
        $help = Read-HelpMarkdown $file.FullName
        foreach ($example in $help.Examples) { @{ Command = $help.Name; Title = $example.Title; Code = $example.Code; NeedsFfmpeg = $example.Code -match '-ClipFrames' } }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1') -NoServer
    Import-Module (Join-Path $PSScriptRoot '../../build/Help.psm1') -Force
    $docs = Join-Path $PSScriptRoot '../../docs/en-US'
    $common = [Management.Automation.PSCmdlet]::CommonParameters
}

Describe 'Help of <Name>' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
    }

    It 'has a synopsis and a description' {
        $help.Synopsis | Should -Not -BeLike "*$Name *[<]*"
        $help.Synopsis.Length | Should -BeGreaterThan 20
        ($help.Description.Text -join ' ').Length | Should -BeGreaterThan 80
    }

    It 'describes every parameter' {
        foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $documented = $help.Parameters.Parameter | Where-Object Name -eq $parameter
            $documented | Should -Not -BeNullOrEmpty -Because "-$parameter must be documented"
            ($documented.Description.Text -join ' ').Length | Should -BeGreaterThan 10 -Because "-$parameter needs a description"
        }
    }

    It 'has at least two examples, related links, and a declared output type' {
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        @($help.RelatedLinks.NavigationLink).Count | Should -BeGreaterOrEqual 1
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'leaves nothing to fill in' {
        Get-Content (Join-Path $docs "$Name.md") -Raw | Should -Not -Match '\{\{ Fill in \}\}'
    }
}

Describe 'Help sources' {
    It 'match the cmdlets: syntax and parameter metadata are up to date (./build.ps1 UpdateHelp)' {
        $copy = Join-Path $TestDrive 'docs'
        Copy-Item $docs $copy -Recurse
        Update-HelpMarkdown -ModuleName VlmCaption -Folder $copy
        foreach ($file in @(Get-ChildItem $copy -Filter '*-*.md') + @(Get-Item (Join-Path $copy 'about_VlmCaption.md'))) {
            Get-Content $file.FullName -Raw | Should -BeExactly (Get-Content (Join-Path $docs $file.Name) -Raw) -Because "$($file.Name) must match the cmdlets and the list of caption.yaml keys"
        }
    }

    It 'has about topics that Get-Help finds' {
        (Get-Help about_VlmCaption | Out-String) | Should -Match 'MIGRATING FROM VLM-CAPTION'
        (Get-Help about_VlmCaption_HintSources | Out-String) | Should -Match 'Directory metadata:'
    }

    It 'reads a markdown file into its parts' {
        $help = Read-HelpMarkdown (Join-Path $docs 'Save-VlmCaption.md')
        $help.Name | Should -Be 'Save-VlmCaption'
        $help.Parameters.Keys | Should -Contain 'Prefix'
        $help.Parameters['Caption'].Meta['Accept pipeline input'] | Should -Be 'True (ByPropertyName)'
        $help.Examples[0].Code | Should -BeLike 'Get-ChildItem*'
        $help.Syntax[0].Names | Should -Contain 'LiteralPath'
    }
}

Describe 'Examples in the help' {
    BeforeAll {
        $server = Start-TestServer
        Reset-TestServer $server -Options @{ models = @('qwen2.5-vl-7b-instruct') }
        $sandbox = Join-Path $TestDrive 'sandbox'
        $images = New-Item -ItemType Directory -Path (Join-Path $sandbox 'images') -Force
        New-TestImage $server (Join-Path $images 'red.png') -Width 40 -Height 30 | Out-Null
        New-TestImage $server (Join-Path $images 'blue.jpg') -Format jpeg -Color blue | Out-Null
        Set-Content (Join-Path $images 'metadata.json') '{"place": "studio"}'
        New-TestImage $server (Join-Path $sandbox 'cat.png') | Out-Null
        New-TestImage $server (Join-Path $sandbox 'dog.jpg') -Format jpeg | Out-Null
        Set-Content (Join-Path $sandbox 'hint.ps1') 'param($Image) "Camera: test rig for $($Image.Name)"'
        $clips = New-Item -ItemType Directory -Path (Join-Path $sandbox 'clips') -Force
        if (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue) {
            New-TestClip -Path (Join-Path $clips 'walk.mp4') | Out-Null
        }
        else {
            Write-Host 'ffmpeg is not installed here: the help example that captions clips is skipped.'
        }
        Set-Content (Join-Path $sandbox 'caption.yaml') "base_url: $($server.BaseUrl)`nprompts: [Describe the image.]`nbase_directory: images`nskip_if_caption_exists: true"
    }

    AfterAll {
        Stop-TestServer $server
    }

    It '<Command>, <Title>, runs as written' -ForEach $examples {
        if ($NeedsFfmpeg -and -not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
            Set-ItResult -Skipped -Because 'ffmpeg is not installed here'
            return
        }

        # The examples that compare models need a server listing two; the others rely on it listing one.
        $listed = @(if ($Code -match 'gemma-3-12b-it') { 'qwen2.5-vl-7b-instruct', 'gemma-3-12b-it' } else { 'qwen2.5-vl-7b-instruct' })
        Reset-TestServer $server -Options @{ models = $listed }
        $folder = Join-Path $TestDrive ([guid]::NewGuid())
        Copy-Item $sandbox $folder -Recurse
        # Every endpoint named in an example is the local server; here it is the reference server.
        $code = $Code -replace 'http://[a-z0-9.]+:\d+/v1', $server.BaseUrl
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$env:VLMCAPTION_MODULE'; Set-Location -LiteralPath '$folder'; `$PSDefaultParameterValues['*-Vlm*:BaseUrl'] = '$($server.BaseUrl)'").AddStatement().AddScript($code)
        $output = $ps.Invoke()
        $errors = @($ps.Streams.Error)
        $ps.Dispose()
        $errors | Should -BeNullOrEmpty -Because "the example must run without errors: $($errors | Out-String)"
        if ($code -notmatch '-WhatIf') {
            # It did something: emitted objects, or wrote files.
            $before = @(Get-ChildItem $sandbox -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($sandbox, $_.FullName) })
            $written = @(Get-ChildItem $folder -Recurse -File | Where-Object { [IO.Path]::GetRelativePath($folder, $_.FullName) -notin $before })
            ($output.Count + $written.Count) | Should -BeGreaterThan 0
        }
    }
}

Describe 'Help fits an 80-column terminal' {
    It 'has no line of an about topic wider than 80 columns' {
        foreach ($topic in Get-ChildItem (Join-Path (Split-Path $env:VLMCAPTION_MODULE) 'en-US') -Filter 'about_*.help.txt') {
            Get-Content $topic.FullName | Where-Object Length -gt 80 | Should -BeNullOrEmpty -Because "$($topic.Name) must fit 80 columns"
        }
    }

    It 'wraps every help paragraph before 80 columns' {
        [xml] $maml = Get-Content (Join-Path (Split-Path $env:VLMCAPTION_MODULE) 'en-US/VlmCaption.PowerShell.dll-Help.xml') -Raw
        $paragraphs = $maml.SelectNodes("//*[local-name()='para']")
        $paragraphs.Count | Should -BeGreaterThan 100
        foreach ($paragraph in $paragraphs) {
            $paragraph.InnerText -split "`n" | Where-Object Length -gt 72 | Should -BeNullOrEmpty
        }
    }
}
