BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
}

AfterAll {
    Stop-TestServer $server
}

Describe 'The built module' {
    It 'exports its cmdlets and nothing else' {
        $module = Get-Module VlmCaption
        $module.ExportedCmdlets.Keys | Should -Contain 'Get-VlmCaption'
        $module.ExportedFunctions.Count | Should -Be 0
        $module.ExportedAliases.Count | Should -Be 0
    }

    It 'keeps every dependency in Dependencies/, away from the module root' {
        $root = Split-Path $env:VLMCAPTION_MODULE
        (Get-ChildItem $root -Filter *.dll).Name | Should -Be @('VlmCaption.PowerShell.dll', 'VlmCaption.Types.dll')
        $dependencies = (Get-ChildItem (Join-Path $root 'Dependencies') -Filter *.dll).Name
        $dependencies | Should -Contain 'VlmCaption.Core.dll'
        $dependencies | Should -Contain 'OpenAI.dll'
        $dependencies | Should -Contain 'SixLabors.ImageSharp.dll'
        $dependencies | Should -Contain 'YamlDotNet.dll'
    }

    It 'has an about topic' {
        (Get-Help about_VlmCaption).ToString() | Should -Match 'vision-language model'
    }
}

Describe 'Get-VlmCaption' {
    BeforeEach {
        Reset-TestServer $server
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
    }

    It 'captions each image piped from Get-ChildItem with its true size' {
        New-TestImage $server (Join-Path $folder 'a.png') -Width 64 -Height 48 -Color red | Out-Null
        New-TestImage $server (Join-Path $folder 'b.png') -Width 100 -Height 30 -Color blue | Out-Null
        New-TestImage $server (Join-Path $folder 'c.png') -Width 7 -Height 300 -Color green | Out-Null

        $results = @(Get-ChildItem (Join-Path $folder '*.png') | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test)

        $results.Count | Should -Be 3
        $byName = @{}
        $results | ForEach-Object { $byName[(Split-Path $_.Path -Leaf)] = $_ }
        $byName['a.png'].Caption | Should -BeLike 'Red * image, 64x48 pixels. Turn 1.*'
        $byName['b.png'].Caption | Should -BeLike 'Blue * image, 100x30 pixels.*'
        $byName['c.png'].Caption | Should -BeLike 'Green * image, 7x300 pixels.*'
        $results | ForEach-Object {
            $_ | Should -BeOfType ([VlmCaption.CaptionResult])
            $_.Status | Should -Be 'Succeeded'
            $_.Model | Should -Be 'test'
            $_.BaseUrl | Should -Be $server.BaseUrl
        }
        @(Get-TestServerRequest $server).Count | Should -Be 3
    }

    It 'captions tests/data/*.png with each true size (the walking slice)' {
        $results = @(Get-ChildItem (Join-Path $PSScriptRoot '../data/*.png') | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test)
        $results.Count | Should -Be 3
        foreach ($result in $results) {
            $size = ([IO.Path]::GetFileNameWithoutExtension($result.Path) -split '-')[1]
            $result.Caption | Should -BeLike "*$size pixels*"
        }
    }

    It 'resolves wildcards in -Path and takes -LiteralPath names with brackets and spaces as written' {
        $odd = New-TestImage $server (Join-Path $folder 'shot [1] é.png') -Width 20 -Height 10
        New-TestImage $server (Join-Path $folder 'plain.png') -Width 30 -Height 10 | Out-Null

        (Get-VlmCaption -LiteralPath $odd.FullName -BaseUrl $server.BaseUrl -Model test).Caption | Should -BeLike '*20x10 pixels*'
        (Get-VlmCaption -Path (Join-Path $folder 'pl*.png') -BaseUrl $server.BaseUrl -Model test).Caption | Should -BeLike '*30x10 pixels*'
        (Get-ChildItem -LiteralPath $odd.FullName | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test).Path | Should -Be $odd.FullName
    }

    It 'binds strings from the pipeline and objects with a FullName' {
        $image = New-TestImage $server (Join-Path $folder 'x.png') -Width 25 -Height 25
        ($image.FullName | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test).Caption | Should -BeLike '*25x25 pixels*'
        ([pscustomobject]@{ FullName = $image.FullName } | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test).Caption | Should -BeLike '*25x25 pixels*'
    }

    It 'reports a missing file and a non-file-system path as errors and goes on' {
        $image = New-TestImage $server (Join-Path $folder 'ok.png')
        $results = @((Join-Path $folder 'missing.png'), 'Env:PATH', $image.FullName |
                Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -ErrorVariable errors -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 1
        $errors.FullyQualifiedErrorId | Should -Contain 'PathNotFound,VlmCaption.PowerShell.Commands.GetVlmCaptionCommand'
        $errors.FullyQualifiedErrorId | Should -Contain 'NotFileSystemPath,VlmCaption.PowerShell.Commands.GetVlmCaptionCommand'
    }

    It 'writes an error record for an image the server keeps refusing, and captions the others' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'status'; status = 400; imageSize = '13x7' }) }
        New-TestImage $server (Join-Path $folder 'bad.png') -Width 13 -Height 7 | Out-Null
        New-TestImage $server (Join-Path $folder 'good.png') -Width 40 -Height 40 | Out-Null

        $results = @(Get-ChildItem $folder -File | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -ErrorVariable errors -ErrorAction SilentlyContinue)

        $results.Count | Should -Be 1
        $results[0].Caption | Should -BeLike '*40x40*'
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'RequestFailed,VlmCaption.PowerShell.Commands.GetVlmCaptionCommand'
        $errors[0].TargetObject | Should -Be (Join-Path $folder 'bad.png')
        $errors[0].Exception.Message | Should -Match 'HTTP 400.*Scripted fault'
    }

    It 'sends max_tokens and the prompt chain, and returns the last answer' {
        $image = New-TestImage $server (Join-Path $folder 'x.png')
        $result = Get-VlmCaption -LiteralPath $image.FullName -BaseUrl $server.BaseUrl -Model test -Prompt 'one', 'two', 'three' -MaxTokens 99
        $result.Caption | Should -BeLike '*Turn 3.*'
        $result.Turns.Prompt | Should -Be @('one', 'two', 'three')
        $requests = Get-TestServerRequest $server
        $requests.Count | Should -Be 3
        $requests | ForEach-Object { $_.body.max_tokens | Should -Be 99 }
    }
}
