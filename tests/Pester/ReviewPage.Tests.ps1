# The review page: written by Export-VlmReviewPage, loaded in a real headless Chromium, checked in the rendered DOM.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $browser = Find-Chromium
    $noBrowser = 'no Chromium or Chrome was found (Debian: apt-get install chromium; or set VLMCAPTION_CHROMIUM), so the page was NOT checked in a browser'
    if (-not $browser) { Write-Host "ReviewPage.Tests: $noBrowser." -ForegroundColor Yellow }
    # Screenshots are kept beside the build, for a person to look at after the run.
    $artifacts = New-Item -ItemType Directory -Force -Path (Join-Path (Split-Path (Split-Path $env:VLMCAPTION_MODULE)) 'test-artifacts')

    # Attempts to run script from a caption, a file name, a model name and the title; any that ran marks <body>.
    $hostile = @(
        '<script>document.body.setAttribute("data-pwned","1")</script>'
        '"><img src=x onerror="document.body.setAttribute(''data-pwned'',''2'')">'
        '</script><script>document.body.setAttribute("data-pwned","3")</script>'
        "it's a <b>bold</b> & `"quoted`" caption"
    )

    function Get-Rows([string] $Dom) { [regex]::Matches($Dom, '<tr class="item"[^>]*>') }
    function Get-Count([string] $Dom) { [regex]::Match($Dom, '<span id="count">([^<]*)</span>').Groups[1].Value }

    $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'dataset')
    $sub = New-Item -ItemType Directory -Path (Join-Path $root 'set one')
    New-TestImage $server (Join-Path $root 'a.png') -Width 40 -Height 30 | Out-Null
    New-TestImage $server (Join-Path $root 'b.jpg') -Width 300 -Height 200 -Format jpeg -Color blue | Out-Null
    New-TestImage $server (Join-Path $sub 'c d.png') -Width 50 -Height 120 -Color green | Out-Null
    $evilName = "x`"><svg onload=document.body.setAttribute('data-pwned','4')>.png"
    New-TestImage $server (Join-Path $root $evilName) -Width 20 -Height 20 | Out-Null
    [IO.File]::WriteAllBytes((Join-Path $root 'broken.png'), [byte[]](1..64))

    # Real results and a real run's failure, plus hostile objects as a CSV could bring them.
    $results = @(Get-ChildItem $root -Recurse -Filter *.png | Where-Object Name -NE 'broken.png' | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test)
    $results += Get-VlmCaption -LiteralPath (Join-Path $root 'b.jpg') -BaseUrl $server.BaseUrl -Model test -MaxTokens 3 -WarningAction SilentlyContinue
    Set-Content (Join-Path $TestDrive 'caption.yaml') "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe.]`nbase_directory: dataset"
    Invoke-VlmCaptionRun (Join-Path $TestDrive 'caption.yaml') -SummaryVariable summary -ErrorAction SilentlyContinue | Out-Null
    $failures = @($summary.Failures)
    $objects = @($hostile | ForEach-Object { [pscustomobject]@{ PSPath = (Join-Path $root 'a.png'); Caption = $_; Model = '<i>model</i>'; Tokens = '7'; Seconds = '0.5' } })
    $page = Join-Path $root 'review.html'
    $all = @($results) + $failures + $objects
    $all | Export-VlmReviewPage $page -Title '</title><script>document.body.setAttribute("data-pwned","5")</script>' -WarningVariable pageWarnings
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Export-VlmReviewPage writes one self-contained page' {
    It 'holds every object, with its own style and script and nothing fetched from anywhere' {
        $results.Count | Should -Be 4
        $failures.Count | Should -Be 1
        $html = Get-Content -Raw $page
        $html | Should -Match '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; img-src data:;'
        $html | Should -Not -Match '<link|(src|href)\s*=\s*"?(https?:)?//'
        ([regex]::Matches($html, '"status":')).Count | Should -Be ($all.Count)
        # Every thumbnail is inside the page as a small JPEG data URI; the broken file has none, and rows of one
        # image in a row (the hostile objects are all a.png) share the first one's.
        ([regex]::Matches($html, '"thumb":"data:image/(jpeg|png);base64,')).Count | Should -Be ($all.Count - 1 - ($objects.Count - 1))
        $pageWarnings | Should -BeLike "*No preview of*broken.png*"
    }

    It 'shows a clip as a strip of four of its frames, side by side' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        $clips = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'clips') -Force
        $clip = New-TestClip -Path (Join-Path $clips 'walk.mp4')
        $clipPage = Join-Path $clips 'review.html'

        Get-VlmCaption -LiteralPath $clip.FullName -BaseUrl $server.BaseUrl -Model test -ClipFrames 2 | Export-VlmReviewPage $clipPage

        $html = Get-Content -Raw $clipPage
        $html | Should -Match '"thumb":"data:image/jpeg;base64,'
        $html | Should -Match '"thumbWidth":256,"thumbHeight":48'
        if ($browser) {
            # What a reviewer sees: Chromium runs the page's own script under its Content-Security-Policy and shows the strip.
            $dom = Invoke-HeadlessChromium -Browser $browser -Path $clipPage
            $dom | Should -Match '<body[^>]*data-ready="1"'
            $dom | Should -Match '<img[^>]*width="256"[^>]*height="48"[^>]*src="data:image/jpeg;base64,'
        }
        else {
            Write-Host "  (the strip was NOT checked in a browser: $noBrowser)"
        }
    }

    It 'shows no time for captions read back from files, which have none' {
        Set-Content -LiteralPath (Join-Path $root 'a.txt') -Value 'a caption from a file' -NoNewline
        $imported = Join-Path $TestDrive 'imported.html'
        Import-VlmCaption -LiteralPath (Join-Path $root 'a.png') | Export-VlmReviewPage $imported -ThumbnailSize 0
        $html = Get-Content -Raw $imported
        $html | Should -Match '"seconds":null'
        $html | Should -Not -Match '"seconds":0'
        Remove-Item -LiteralPath (Join-Path $root 'a.txt')
    }

    It 'refuses a name that is not .html, an existing page without -Force, and writes nothing with -WhatIf' {
        { $objects | Export-VlmReviewPage (Join-Path $root 'a.txt') -ErrorAction Stop } | Should -Throw -ErrorId 'PageNotHtml,*'
        { $objects | Export-VlmReviewPage $page -ErrorAction Stop } | Should -Throw -ErrorId 'PageExists,*'
        $objects | Export-VlmReviewPage (Join-Path $root 'whatif.html') -WhatIf
        Test-Path (Join-Path $root 'whatif.html') | Should -BeFalse
        Get-ChildItem $root -Force -Filter '.vlmcaption-*' | Should -BeNullOrEmpty
    }

    It 'takes CSV rows back, numbers as text, and leaves thumbnails out with -ThumbnailSize 0' {
        $csv = Join-Path $TestDrive 'results.csv'
        $results | Export-Csv -LiteralPath $csv
        $file = Import-Csv $csv | Export-VlmReviewPage (Join-Path $TestDrive 'csv.html') -ThumbnailSize 0 -PassThru
        $file | Should -BeOfType System.IO.FileInfo
        $html = Get-Content -Raw $file.FullName
        $html | Should -Not -Match '"thumb":'
        $html | Should -Match ('"tokens":' + $results[0].Tokens)
    }
}

Describe 'The review page in a real browser (headless Chromium)' {
    BeforeEach {
        if (-not $browser) { Set-ItResult -Skipped -Because $noBrowser }
    }

    It 'shows every image and caption as text: nothing in a caption, name, model or title runs' {
        $dom = Invoke-HeadlessChromium -Browser $browser -Path $page
        $dom | Should -Match '<body[^>]*data-ready="1"'
        $dom | Should -Not -Match '<body[^>]*data-pwned'
        (Get-Rows $dom).Count | Should -Be $all.Count
        Get-Count $dom | Should -Be "Showing $($all.Count) of $($all.Count)"
        # The captions are there as text: their markup escaped, not elements.
        $dom | Should -Match ([regex]::Escape('&lt;script&gt;document.body.setAttribute("data-pwned","1")&lt;/script&gt;'))
        $dom | Should -Match ([regex]::Escape('"&gt;&lt;img src=x onerror='))
        $dom | Should -Match ([regex]::Escape("it's a &lt;b&gt;bold&lt;/b&gt; &amp; `"quoted`" caption"))
        $dom | Should -Not -Match '<svg|<img [^>]*onerror|<b>bold|<i>model'
        ([regex]::Matches($dom, '<script')).Count | Should -Be 2
        $dom | Should -Match '<title>&lt;/title&gt;&lt;script&gt;'
        # Names below the root, links relative to the page with each name escaped.
        $dom | Should -Match ([regex]::Escape('<a href="set%20one/c%20d.png" target="_blank" rel="noopener">set one/c d.png</a>'))
        $dom | Should -Match '<div class="size">300×200</div>'
    }

    It 'filters by status and by text, and sorts, from the address' {
        $failed = Invoke-HeadlessChromium -Browser $browser -Path $page -Hash '#status=Failed'
        @(Get-Rows $failed).Count | Should -Be 1
        $failed | Should -Match 'broken\.png'
        $failed | Should -Match '<option value="Failed" selected|<select id="status">'
        Get-Count $failed | Should -Be "Showing 1 of $($all.Count)"

        $truncated = Invoke-HeadlessChromium -Browser $browser -Path $page -Hash '#status=Truncated'
        @(Get-Rows $truncated).Count | Should -Be 1

        $search = Invoke-HeadlessChromium -Browser $browser -Path $page -Hash '#q=BOLD'
        @(Get-Rows $search).Count | Should -Be 1
        $search | Should -Match 'value="BOLD"|Showing 1 of'

        $sorted = Invoke-HeadlessChromium -Browser $browser -Path $page -Hash '#sort=seconds&desc=1'
        $slowest = ($all | Where-Object { $_.PSObject.Properties['Seconds'] } | ForEach-Object { [double] $_.Seconds } | Measure-Object -Maximum).Maximum
        $first = [regex]::Match($sorted, '<tr class="item"[^>]*>.*?</tr>').Value
        $first | Should -Match ([regex]::Escape('<td class="num seconds">' + $slowest.ToString('0.0', [cultureinfo]::InvariantCulture) + '</td>'))
        $last = [regex]::Matches($sorted, '<tr class="item"[^>]*>.*?</tr>')[-1].Value
        $last | Should -Match '<td class="num seconds"></td>'
        $last | Should -Match 'broken\.png'

        $sorted | Should -Match '<th data-sort="seconds" aria-sort="descending">'
    }

    It 'keeps a page of 2 500 images light: only the first rows are in the document until scrolled to' {
        $many = Join-Path $TestDrive 'many.html'
        $image = Join-Path $root 'a.png'
        1..2500 | ForEach-Object { [pscustomobject]@{ PSPath = $image; Caption = "caption number $_"; Tokens = $_ } } | Export-VlmReviewPage $many
        $dom = Invoke-HeadlessChromium -Browser $browser -Path $many
        Get-Count $dom | Should -Be 'Showing 2500 of 2500'
        (Get-Rows $dom).Count | Should -Be 100
        $dom | Should -Match '2400 more below'
        $found = Invoke-HeadlessChromium -Browser $browser -Path $many -Hash '#q=number%201234'
        (Get-Rows $found).Count | Should -Be 1
        $found | Should -Match 'caption number 1234<'
    }

    It 'renders, and a screenshot is kept for a person to look at' {
        $shot = Join-Path $artifacts 'review-page.png'
        Remove-Item -LiteralPath $shot -ErrorAction SilentlyContinue
        Invoke-HeadlessChromium -Browser $browser -Path $page -Screenshot $shot | Out-Null
        $bytes = [IO.File]::ReadAllBytes($shot)
        $bytes.Length | Should -BeGreaterThan 5000
        [BitConverter]::ToString($bytes, 0, 4) | Should -Be '89-50-4E-47'
        Write-Host "Review page screenshot: $shot"
    }
}
