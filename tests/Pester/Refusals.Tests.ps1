# A model that refuses: its answer is never saved as a caption, is counted, and is asked again by the next run.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Refusals' {
    BeforeEach {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'set')
        New-TestImage $server (Join-Path $images 'red.png') -Width 40 | Out-Null
        New-TestImage $server (Join-Path $images 'blue.png') -Width 41 -Color blue | Out-Null
        # The model refuses the blue image (41x48) and captions the red one.
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'refuse'; imageSize = '41x48' }) }
        $yaml = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe the image.]`nbase_directory: set`nskip_if_caption_exists: true"
    }

    It 'never saves a refusal, counts it, names the image, and asks again on the next run' {
        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml -WarningVariable warned -WarningAction SilentlyContinue

        $summary.Succeeded | Should -Be 1
        $summary.Refused | Should -Be 1
        Test-Path -LiteralPath (Join-Path $images 'blue.txt') | Should -BeFalse
        Get-Content -LiteralPath (Join-Path $images 'red.txt') | Should -BeLike 'Red PNG image*'
        "$warned" | Should -BeLike "*refused to caption '*blue.png'*I'm sorry, but I can't help*Nothing was saved*"

        Reset-TestServer $server -Options @{ models = @('test') }
        $again = Invoke-VlmCaptionRun -ConfigPath $yaml
        $again.Skipped | Should -Be 1
        $again.Succeeded | Should -Be 1
        @(Get-TestServerRequest $server).Count | Should -Be 1 -Because 'only the refused image is asked again'
        Get-Content -LiteralPath (Join-Path $images 'blue.txt') | Should -BeLike 'Blue PNG image*'
    }

    It 'marks a refused result Refused for the pipeline, which Save-VlmCaption will not write without -Force' {
        $results = @(Get-ChildItem -LiteralPath $images -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -WarningAction SilentlyContinue)

        ($results | Where-Object Status -eq Refused).Image | Should -Be 'blue.png'
        ($results | Where-Object Status -eq Succeeded).Image | Should -Be 'red.png'
        $results | Save-VlmCaption -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'CaptionRefused,*'
        Test-Path -LiteralPath (Join-Path $images 'blue.txt') | Should -BeFalse
        $results | Export-VlmDataset Musubi -Root $images -Force -WarningVariable left -WarningAction SilentlyContinue | Out-Null
        "$left" | Should -BeLike "*blue.png' has a refusal*left out of the dataset*"
        (Get-Content -LiteralPath (Join-Path $images 'musubi_images.jsonl') | ConvertFrom-Json).image_path | Should -Be @((Join-Path $images 'red.png'))
        $results | Where-Object Status -eq Refused | Save-VlmCaption -Force
        Get-Content -LiteralPath (Join-Path $images 'blue.txt') | Should -BeLike "I'm sorry*"
    }

    It 'takes openings of one''s own (refusal_phrases, -RefusalPhrase), and takes every answer with -NoRefusalCheck' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'refuse-custom'; imageSize = '41x48' }) }
        (Invoke-VlmCaptionRun -ConfigPath $yaml).Succeeded | Should -Be 2 -Because '"Nope" opens no built-in refusal'
        Remove-Item -LiteralPath (Join-Path $images 'blue.txt'), (Join-Path $images 'red.txt')

        (Invoke-VlmCaptionRun -ConfigPath $yaml -RefusalPhrase 'nope,' -WarningAction SilentlyContinue).Refused | Should -Be 1
        Add-Content -LiteralPath $yaml "refusal_phrases: ['Nope, not']"
        (Invoke-VlmCaptionRun -ConfigPath $yaml -WarningAction SilentlyContinue).Refused | Should -Be 1

        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'refuse'; imageSize = '41x48' }) }
        $taken = Invoke-VlmCaptionRun -ConfigPath $yaml -NoRefusalCheck
        $taken.Refused | Should -Be 0
        Get-Content -LiteralPath (Join-Path $images 'blue.txt') | Should -BeLike "I'm sorry*"
    }
}

Describe 'The refusal openings in the help' {
    It 'lists every built-in opening in about_VlmCaption, as the check uses them' {
        $about = Get-Content -Raw (Join-Path $PSScriptRoot '../../docs/en-US/about_VlmCaption.md')
        foreach ($opening in [VlmCaption.RefusalOpenings]::BuiltIn) {
            $about.Contains($opening) | Should -BeTrue -Because "about_VlmCaption must list '$opening'"
        }
    }
}
