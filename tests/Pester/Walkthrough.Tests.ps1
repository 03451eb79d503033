# The README's walk from first pass to export and review, run as written over a small dataset.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $readme = Get-Content (Join-Path $PSScriptRoot '../../README.md') -Raw
    $walkthrough = [regex]::Match($readme, '(?s)<!-- walkthrough -->\s*```powershell\n(.*?)```\s*<!-- /walkthrough -->').Groups[1].Value
}

AfterAll {
    Stop-TestServer $server
}

Describe "The README's walkthrough" {
    It 'captions, reviews, edits, recaptions and exports a dataset as written' {
        $walkthrough | Should -Not -BeNullOrEmpty
        $home_ = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'work')
        $dataset = New-Item -ItemType Directory -Path (Join-Path $home_ 'dataset')
        $sub = New-Item -ItemType Directory -Path (Join-Path $dataset 'portraits')
        New-TestImage $server (Join-Path $dataset 'a.png') -Width 41 | Out-Null
        New-TestImage $server (Join-Path $dataset 'b.jpg') -Width 42 -Format jpeg -Color blue | Out-Null
        New-TestImage $server (Join-Path $sub 'c.png') -Width 43 -Color green | Out-Null
        [IO.File]::WriteAllBytes((Join-Path $dataset 'broken.png'), [byte[]](1..64))
        Set-Content (Join-Path $home_ 'caption.yaml') @"
base_url: $($server.BaseUrl)
model: test
prompts: [Describe the image.]
base_directory: ./dataset
recursive: true
skip_if_caption_exists: true
"@
        # A caption from an earlier pass that names a watermark: the first pass skips it, the recaption step redoes it.
        Set-Content -LiteralPath (Join-Path $sub 'c.txt') -Value 'A portrait with a watermark in the corner.' -NoNewline
        Reset-TestServer $server

        # As at a prompt: a failed image is an error record, and the rest goes on.
        $ErrorActionPreference = 'Continue'
        Push-Location $home_
        try {
            $output = . ([scriptblock]::Create($walkthrough)) 2>&1 3>&1
        }
        finally { Pop-Location }

        # Only the broken image failed, in the first pass.
        $errorsSeen = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $errorsSeen.Count | Should -Be 1
        $errorsSeen[0].FullyQualifiedErrorId | Should -BeLike 'Image*,*'
        $run.Succeeded | Should -Be 2
        $run.Skipped | Should -Be 1
        $run.Failures.Count | Should -Be 1

        # Recaptioned with the old caption as context.
        Get-Content -Raw (Join-Path $sub 'c.txt') | Should -BeLike 'Green * image, 43x48 pixels.*'
        $texts = Get-TestServerRequest $server | ForEach-Object { ($_.body.messages[-1].content | Where-Object type -EQ 'text').text -join '' }
        @($texts | Where-Object { $_ -like "Existing caption:`nA portrait with a watermark in the corner.*" }).Count | Should -Be 1

        Get-Content -Raw (Join-Path $dataset 'review.html') | Should -Match '"status":"Succeeded"'
        Get-Content -Raw (Join-Path $home_ 'failures.html') | Should -Match 'broken\.png'
        (Import-Csv (Join-Path $home_ 'captions.csv')).Count | Should -Be 3
        $lines = @(Get-Content (Join-Path $dataset 'metadata.jsonl') | ConvertFrom-Json)
        $lines.file_name | Sort-Object | Should -Be @('a.png', 'b.jpg', 'portraits/c.png')
        $kohya = Get-Content -Raw (Join-Path $dataset 'meta_cap.json') | ConvertFrom-Json -AsHashtable
        $kohya.Keys.Count | Should -Be 3
    }
}
