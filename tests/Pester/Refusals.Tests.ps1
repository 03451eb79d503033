# A model that refuses: its answer is never saved as a caption, is counted, and is asked again by the next run.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Refusals' {
    BeforeEach {
        $set = New-RedBlueSet $server $TestDrive
        $folder, $images = $set.Folder, $set.Images
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

Describe 'A fallback model' {
    BeforeEach {
        $set = New-RedBlueSet $server $TestDrive
        $folder, $images = $set.Folder, $set.Images
        New-TestImage $server (Join-Path $images 'green.png') -Width 42 -Color green | Out-Null
        Set-Content -LiteralPath (Join-Path $images 'broken.png') 'not an image'
        # The first model refuses blue and fails green with a 500; the second answers both.
        Reset-TestServer $server -Options @{ models = @('strong', 'weak'); faults = @(
                @{ kind = 'refuse'; imageSize = '41x48'; model = 'strong' },
                @{ kind = 'status'; status = 500; imageSize = '42x48'; model = 'strong' }) }
        $yaml = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: strong`nprompts: [Describe the image.]`nbase_directory: set`nmax_retries: 0`nskip_if_caption_exists: true"
    }

    It 'captions in the same run exactly what the first model refused or failed on, and says which model wrote what' {
        Add-Content -LiteralPath $yaml "fallback:`n  model: weak"

        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue

        $summary.Succeeded | Should -Be 3
        $summary.Refused | Should -Be 0
        $summary.Failed | Should -Be 1 -Because 'a file that cannot be read is not given to another model'
        $failures.FullyQualifiedErrorId | Should -BeLike 'ImageDecodeFailed,*'
        $summary.CaptionsByModel['strong'] | Should -Be 1
        $summary.CaptionsByModel['weak'] | Should -Be 2
        $requests = @(Get-TestServerRequest $server)
        @($requests | Where-Object { $_.body.model -eq 'strong' }).Count | Should -Be 3
        @($requests | Where-Object { $_.body.model -eq 'weak' } | ForEach-Object { $_.image.width } | Sort-Object) | Should -Be @(41, 42)
        Get-Content -LiteralPath (Join-Path $images 'blue.txt') | Should -BeLike 'Blue PNG image*'
        Get-Content -LiteralPath (Join-Path $images 'green.txt') | Should -BeLike 'Green PNG image*'
    }

    It 'names the fallback model in a jsonl line it writes, and a rerun takes that line for the image''s caption' {
        Remove-Item -LiteralPath (Join-Path $images 'broken.png')
        Add-Content -LiteralPath $yaml "output_format: jsonl`nfallback:`n  model: weak"

        (Invoke-VlmCaptionRun -ConfigPath $yaml -WarningAction SilentlyContinue).Succeeded | Should -Be 3
        (Get-Content -LiteralPath (Join-Path $images 'blue.jsonl') | ConvertFrom-Json).model | Should -Be 'weak'
        (Get-Content -LiteralPath (Join-Path $images 'red.jsonl') | ConvertFrom-Json).model | Should -Be 'strong'

        Reset-TestServer $server -Options @{ models = @('strong', 'weak'); faults = @(@{ kind = 'refuse'; imageSize = '41x48'; model = 'strong' }) }
        (Invoke-VlmCaptionRun -ConfigPath $yaml).Skipped | Should -Be 3
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }

    It 'takes -FallbackModel on the command line, and counts what the fallback refuses too' {
        Reset-TestServer $server -Options @{ models = @('strong', 'weak'); faults = @(@{ kind = 'refuse'; imageSize = '41x48' }) }

        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml -FallbackModel weak -PassThru -SummaryVariable done -ErrorAction SilentlyContinue -WarningVariable warned -WarningAction SilentlyContinue

        ($summary | Where-Object Image -eq 'red.png').Model | Should -Be 'strong'
        $done.Refused | Should -Be 1
        Test-Path -LiteralPath (Join-Path $images 'blue.txt') | Should -BeFalse
        @(Get-TestServerRequest $server | Where-Object { $_.body.model -eq 'weak' }).Count | Should -Be 1
        "$warned" | Should -BeLike "*refused to caption*blue.png*"
    }
}
