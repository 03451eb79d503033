# Several models over the same images: each model's captions kept apart, a rerun asks only what is missing, one is
# picked per image afterwards, and the review page shows them side by side.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    Import-Module (Join-Path $PSScriptRoot '../TrainerLoaders.psm1') -Force
    $browser = Find-Chromium
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Several models per image' {
    BeforeEach {
        $set = New-RedBlueSet $server $TestDrive
        $folder, $images = $set.Folder, $set.Images
        Reset-TestServer $server -Options @{ models = @('alpha', 'beta/v2'); namesModel = $true }
        $yaml = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: [alpha, beta/v2]`nprompts: [Describe the image.]`nbase_directory: set`nskip_if_caption_exists: true"
    }

    It 'captions each image with each model into a file per model, counts per model, and asks nobody again' {
        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml

        $summary.Succeeded | Should -Be 2
        $summary.CaptionsByModel['alpha'] | Should -Be 2
        $summary.CaptionsByModel['beta/v2'] | Should -Be 2
        Get-Content -LiteralPath (Join-Path $images 'red.alpha.txt') | Should -BeLike 'By alpha: Red PNG image*'
        Get-Content -LiteralPath (Join-Path $images 'red.beta_v2.txt') | Should -BeLike 'By beta/v2: Red PNG image*'
        Get-Content -LiteralPath (Join-Path $images 'blue.beta_v2.txt') | Should -BeLike 'By beta/v2: Blue PNG image*'
        Test-Path -LiteralPath (Join-Path $images 'red.txt') | Should -BeFalse -Because 'which caption a trainer reads is picked afterwards'
        $requests = @(Get-TestServerRequest $server)
        $requests.Count | Should -Be 4
        @($requests | Group-Object { $_.body.model } | ForEach-Object { "$($_.Name)=$($_.Count)" } | Sort-Object) | Should -Be @('alpha=2', 'beta/v2=2')

        Reset-TestServer $server -Options @{ models = @('alpha', 'beta/v2'); namesModel = $true }
        $again = Invoke-VlmCaptionRun -ConfigPath $yaml
        $again.Skipped | Should -Be 2
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }

    It 'writes what one model answered when the other refuses, and asks only the refusing model again' {
        Reset-TestServer $server -Options @{ models = @('alpha', 'beta/v2'); namesModel = $true; faults = @(@{ kind = 'refuse'; imageSize = '41x48'; model = 'beta/v2' }) }

        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml -WarningVariable warned -WarningAction SilentlyContinue

        $summary.Succeeded | Should -Be 1
        $summary.Refused | Should -Be 1
        $summary.CaptionsByModel['alpha'] | Should -Be 2
        $summary.CaptionsByModel['beta/v2'] | Should -Be 1
        Test-Path -LiteralPath (Join-Path $images 'blue.beta_v2.txt') | Should -BeFalse
        Get-Content -LiteralPath (Join-Path $images 'blue.alpha.txt') | Should -BeLike 'By alpha: Blue*'
        "$warned" | Should -BeLike "*beta/v2: The model refused to caption '*blue.png'*"

        Reset-TestServer $server -Options @{ models = @('alpha', 'beta/v2'); namesModel = $true }
        $again = Invoke-VlmCaptionRun -ConfigPath $yaml
        $requests = @(Get-TestServerRequest $server)
        $requests.Count | Should -Be 1
        $requests[0].body.model | Should -Be 'beta/v2'
        $requests[0].image.colour | Should -Be 'blue'
        $again.Succeeded | Should -Be 1
        $again.Skipped | Should -Be 1
        Get-Content -LiteralPath (Join-Path $images 'blue.beta_v2.txt') | Should -BeLike 'By beta/v2: Blue*'
    }

    It 'asks each model on servers of its own when its item of the list is a mapping, with its own settings' {
        $second = Start-TestServer
        try {
            Reset-TestServer $second -Options @{ models = @('cloud-model'); namesModel = $true }
            Reset-TestServer $server -Options @{ models = @('alpha'); namesModel = $true }
            Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel:`n  - alpha`n  - {model: cloud-model, base_url: '$($second.BaseUrl)', max_tokens: 77}`nprompts: [Describe the image.]`nbase_directory: set`nskip_if_caption_exists: true"

            $summary = Invoke-VlmCaptionRun -ConfigPath $yaml

            $summary.Succeeded | Should -Be 2
            Get-Content -LiteralPath (Join-Path $images 'red.cloud-model.txt') | Should -BeLike 'By cloud-model: Red PNG*'
            Get-Content -LiteralPath (Join-Path $images 'red.alpha.txt') | Should -BeLike 'By alpha: Red PNG*'
            @(Get-TestServerRequest $server | ForEach-Object { $_.body.model } | Sort-Object -Unique) | Should -Be @('alpha')
            $remote = @(Get-TestServerRequest $second)
            $remote.Count | Should -Be 2
            @($remote | ForEach-Object { $_.body.max_tokens } | Sort-Object -Unique) | Should -Be @(77)
            (Invoke-VlmCaptionRun -ConfigPath $yaml).Skipped | Should -Be 2
        }
        finally {
            Stop-TestServer $second
        }
    }

    It 'refuses an item of the model list that is a mapping without a model, or with a key it does not take' {
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel:`n  - alpha`n  - {base_url: 'http://127.0.0.1:9/v1'}`nprompts: [Describe.]`nbase_directory: set"
        { Import-VlmCaptionConfig $yaml } | Should -Throw '*line 4*needs a model: of its own*'
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel:`n  - alpha`n  - {model: beta, prompts: [x]}`nprompts: [Describe.]`nbase_directory: set"
        { Import-VlmCaptionConfig $yaml } | Should -Throw "*an item of 'model' takes base_url*not 'prompts'*"
    }

    It 'captions in batch rounds a model at a time (a provider''s batch takes one model), each with its own state folder, and goes on per model' {
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: [alpha, beta/v2]`nprompts: [Describe the image., Summarise.]`nbase_directory: set`nskip_if_caption_exists: true`nbatch: true`nbatch_poll_sec: 0.05"
        Set-Content -LiteralPath (Join-Path $images 'red.alpha.txt') 'kept'

        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml

        $summary.Total | Should -Be 4 -Because 'an image counts once for each model in batch rounds'
        $summary.Skipped | Should -Be 1
        $summary.Succeeded | Should -Be 3
        Get-Content -LiteralPath (Join-Path $images 'red.alpha.txt') | Should -Be 'kept'
        Get-Content -LiteralPath (Join-Path $images 'blue.alpha.txt') | Should -BeLike 'By alpha: Blue PNG*Turn 2*'
        Get-Content -LiteralPath (Join-Path $images 'red.beta_v2.txt') | Should -BeLike 'By beta/v2: Red PNG*Turn 2*'
        $lines = @(Get-TestServerRequest $server)
        $lines.Count | Should -Be 6
        @($lines | Where-Object { $_.body.model -eq 'alpha' }).Count | Should -Be 2
        (Get-TestServerStat $server).batchesCreated | Should -Be 4 -Because 'two rounds for each model'
        @(Get-ChildItem -LiteralPath $images -Force -Filter '.vlmcaption-batch*').Count | Should -Be 0 -Because 'each model''s state folder goes when its run is done'

        Reset-TestServer $server -Options @{ models = @('alpha', 'beta/v2'); namesModel = $true }
        (Invoke-VlmCaptionRun -ConfigPath $yaml).Skipped | Should -Be 4
        @(Get-TestServerRequest $server).Count | Should -Be 0
    }

    It 'keeps both models'' captions in jsonl lines that name them, and skips by model' {
        Add-Content -LiteralPath $yaml 'output_format: jsonl'
        (Invoke-VlmCaptionRun -ConfigPath $yaml).Succeeded | Should -Be 2
        $lines = @(Get-Content -LiteralPath (Join-Path $images 'red.jsonl') | ConvertFrom-Json)
        @($lines.model | Sort-Object) | Should -Be @('alpha', 'beta/v2')
        ($lines | Where-Object model -eq 'alpha').text | Should -BeLike 'By alpha: Red*'

        Reset-TestServer $server -Options @{ models = @('alpha', 'beta/v2', 'gamma'); namesModel = $true }
        $third = Invoke-VlmCaptionRun -ConfigPath $yaml -Model alpha, gamma
        @(Get-TestServerRequest $server | ForEach-Object { $_.body.model }) | Should -Be @('gamma', 'gamma')
        $third.CaptionsByModel['gamma'] | Should -Be 2
    }

    It 'refuses a list with a name twice, or a fallback beside several models, before any request' {
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: [alpha, Alpha]`nprompts: [Describe.]`nbase_directory: set"
        { Invoke-VlmCaptionRun -ConfigPath $yaml } | Should -Throw "*'model' lists 'alpha' twice*"
        { Get-VlmCaption -LiteralPath (Join-Path $images 'red.png') -BaseUrl $server.BaseUrl -Model alpha, alpha } | Should -Throw "*-Model lists 'alpha' twice*"
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: [alpha, beta/v2]`nprompts: [Describe.]`nbase_directory: set`nfallback:`n  model: gamma"
        { Invoke-VlmCaptionRun -ConfigPath $yaml } | Should -Throw '*lists 2 models to compare*fallback*'
        @(Get-TestServerRequest $server -IncludeModels).Count | Should -Be 0
    }

    It 'survives a kill mid-run with two models: each caption file is whole, and no model is asked twice about an image' -Tag Slow {
        foreach ($colour in 'green', 'yellow', 'orange', 'purple') { New-TestImage $server (Join-Path $images "$colour.png") -Color $colour | Out-Null }
        Add-Content -LiteralPath $yaml 'concurrent_batch_size: 1'
        $runner = Join-Path $folder 'run.ps1'
        Set-Content -LiteralPath $runner "Import-Module '$env:VLMCAPTION_MODULE'; Invoke-VlmCaptionRun '$yaml' | Out-Null"
        Reset-TestServer $server -Options @{ models = @('alpha', 'beta/v2'); namesModel = $true; latencyMs = 300 }
        $process = Start-FreshPwshFile $runner
        $deadline = [datetime]::UtcNow.AddSeconds(60)
        while (@(Get-TestServerRequest $server).Count -lt 5 -and -not $process.HasExited -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 10 }
        $process.Kill()
        $process.WaitForExit()
        $first = @(Get-TestServerRequest $server | Where-Object status -eq 200 | ForEach-Object { "$($_.image.colour) $($_.body.model)" })
        $written = @(Get-ChildItem -LiteralPath $images -Filter *.txt | ForEach-Object { $_.Name })
        $written.Count | Should -BeLessThan 12 -Because 'the run was killed before the end'

        Reset-TestServer $server -Options @{ models = @('alpha', 'beta/v2'); namesModel = $true }
        Invoke-VlmCaptionRun -ConfigPath $yaml | Out-Null

        $second = @(Get-TestServerRequest $server | ForEach-Object { "$($_.image.colour) $($_.body.model)" })
        $second.Count | Should -Be (12 - $written.Count) -Because 'only the captions not written are asked for'
        foreach ($colour in 'red', 'blue', 'green', 'yellow', 'orange', 'purple') {
            foreach ($model in @{ alpha = 'alpha'; beta_v2 = 'beta/v2' }.GetEnumerator()) {
                Get-Content -LiteralPath (Join-Path $images "$colour.$($model.Key).txt") -Raw | Should -Match "^By $([regex]::Escape($model.Value)): \w+ PNG image, \d+x48 pixels\. Turn 1\. Text [0-9a-f]{8}\.$"
            }
        }
        $first.Count | Should -BeGreaterThan 0
    }

    It 'picks one caption an image by model preference or length, never a refused one, and saves it where trainers read' {
        Reset-TestServer $server -Options @{ models = @('alpha', 'beta/v2'); namesModel = $true; faults = @(@{ kind = 'refuse'; imageSize = '41x48'; model = 'beta/v2' }) }
        $results = @(Get-ChildItem -LiteralPath $images -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model alpha, beta/v2 -WarningAction SilentlyContinue)

        $results.Count | Should -Be 4
        @($results | ForEach-Object { "$($_.Image) $($_.Model) $($_.Status)" }) | Should -Be @('blue.png alpha Succeeded', 'blue.png beta/v2 Refused', 'red.png alpha Succeeded', 'red.png beta/v2 Succeeded')
        @(Get-TestServerRequest $server).Count | Should -Be 4

        $results | Save-VlmCaption -ErrorVariable mixed -ErrorAction SilentlyContinue
        @($mixed | ForEach-Object FullyQualifiedErrorId) | Should -Contain 'CaptionModelsMixed,VlmCaption.PowerShell.Commands.SaveVlmCaptionCommand'

        Get-Content -LiteralPath (Join-Path $images 'red.txt') | Should -BeLike 'By alpha: Red*' -Because 'the first model''s caption went in; the second was refused, not written over it'
        Get-ChildItem -LiteralPath $images -Filter *.txt | Remove-Item
        $results | Save-VlmCaption -PerModel -ErrorVariable refusedSave -ErrorAction SilentlyContinue
        @($refusedSave | ForEach-Object FullyQualifiedErrorId) | Should -Be @('CaptionRefused,VlmCaption.PowerShell.Commands.SaveVlmCaptionCommand')
        @(Get-ChildItem -LiteralPath $images -Filter *.txt | ForEach-Object Name | Sort-Object) | Should -Be @('blue.alpha.txt', 'red.alpha.txt', 'red.beta_v2.txt')
        (Read-KohyaFolder -Directory $images -CaptionExtension '.txt').Count | Should -Be 0 -Because 'sd-scripts reads photo.txt only: a model''s own file is nobody''s caption until one is picked'

        $picked = @($results | Select-VlmCaption -Prefer 'beta*')
        @($picked | ForEach-Object { "$($_.Image) $($_.Model)" }) | Should -Be @('blue.png alpha', 'red.png beta/v2')
        $picked | Save-VlmCaption
        Get-Content -LiteralPath (Join-Path $images 'red.txt') | Should -BeLike 'By beta/v2: Red*'
        Get-Content -LiteralPath (Join-Path $images 'blue.txt') | Should -BeLike 'By alpha: Blue*'

        @($results | Select-VlmCaption -By Shortest | ForEach-Object Model) | Should -Be @('alpha', 'alpha') -Because '"alpha" is shorter than "beta/v2" in the same caption'
        @($results | Select-VlmCaption -By Longest | ForEach-Object Model) | Should -Be @('alpha', 'beta/v2')
        $none = @($results | Where-Object Model -eq 'beta/v2' | Select-VlmCaption -ErrorVariable nothing -ErrorAction SilentlyContinue)
        $none.Count | Should -Be 1
        $nothing[0].FullyQualifiedErrorId | Should -BeLike 'NoCaptionToPick,*'
        "$($nothing[0])" | Should -BeLike '*blue.png*beta/v2: Refused*'
    }

    It 'reads each model''s files back (the caption.yaml''s list, or -Model) and keeps them all as lines, which the trainers draw from' {
        (Invoke-VlmCaptionRun -ConfigPath $yaml).Succeeded | Should -Be 2

        $read = @(Import-VlmCaption -Path $images -Config $yaml)
        @($read | ForEach-Object { "$($_.Image) $($_.Model)" }) | Should -Be @('blue.png alpha', 'blue.png beta/v2', 'red.png alpha', 'red.png beta/v2')
        $read[0].CaptionFile | Should -Be (Join-Path $images 'blue.alpha.txt')
        @(Import-VlmCaption -Path $images -Model beta/v2).Count | Should -Be 2

        $read | Select-VlmCaption -By All | Save-VlmCaption
        (Get-Content -LiteralPath (Join-Path $images 'red.txt')).Count | Should -Be 2
        $kohya = Read-KohyaFolder -Directory $images -CaptionExtension '.txt' -EnableWildcard
        $kohya[(Join-Path $images 'red.png')].Count | Should -Be 2
        $kohya[(Join-Path $images 'red.png')][0] | Should -BeLike 'By alpha: Red*'
        $kohya[(Join-Path $images 'red.png')][1] | Should -BeLike 'By beta/v2: Red*'
        $oneTrainer = Read-OneTrainerCaption -Images (Join-Path $images 'red.png')
        $oneTrainer[(Join-Path $images 'red.png')].Count | Should -Be 2
        Get-Content -LiteralPath (Join-Path $images 'red.alpha.txt') | Should -BeLike 'By alpha: Red*' -Because 'the model''s own file is left as it was'

        # An edit of one model's captions goes back to that model's file.
        Import-VlmCaption -Path (Join-Path $images 'red.png') -Model alpha | ForEach-Object { $_.Caption = 'edited'; $_ } | Save-VlmCaption -PerModel -Force
        Get-Content -LiteralPath (Join-Path $images 'red.alpha.txt') | Should -Be 'edited'
    }

    It 'shows the models side by side on the review page, a row an image and a column a model, in Chromium' -Skip:(-not (Find-Chromium)) {
        Reset-TestServer $server -Options @{ models = @('alpha', 'beta/v2'); namesModel = $true; faults = @(@{ kind = 'refuse'; imageSize = '41x48'; model = 'beta/v2' }) }
        $page = Join-Path $folder 'review.html'
        Get-ChildItem -LiteralPath $images -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model alpha, beta/v2 -WarningAction SilentlyContinue | Export-VlmReviewPage $page
        ([regex]::Matches((Get-Content -LiteralPath $page -Raw), '"thumb":"data:')).Count | Should -Be 2 -Because 'an image''s thumbnail is written once, whatever the number of models'

        $plain = Invoke-HeadlessChromium -Browser $browser -Path $page
        ([regex]::Matches($plain, '<tr class="item"')).Count | Should -Be 4
        ([regex]::Matches($plain, '<img ')).Count | Should -Be 4 -Because 'every row shows its image'

        $side = Invoke-HeadlessChromium -Browser $browser -Path $page -Hash '#compare=1'
        $rows = [regex]::Matches($side, '<tr class="item group">.*?</tr>')
        $rows.Count | Should -Be 2
        $side | Should -Match '<th class="model-column">alpha</th><th class="model-column">beta/v2</th>'
        $red = ($rows | Where-Object Value -Match 'red\.png').Value
        $red | Should -Match '<td class="caption model-cell" data-model="alpha"><div>By alpha: Red[^<]*</div><span class="status Succeeded"'
        $red | Should -Match '<td class="caption model-cell" data-model="beta/v2"><div>By beta/v2: Red[^<]*</div>'
        $blue = ($rows | Where-Object Value -Match 'blue\.png').Value
        $blue | Should -Match 'data-model="beta/v2"><div>I''m sorry[^<]*</div><span class="status Refused"'
        $side | Should -Match 'Showing 2 images, 2 models side by side'
    }
}
