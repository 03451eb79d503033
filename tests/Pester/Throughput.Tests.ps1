# What the throughput work promises in behaviour (the speed itself is measured by bench/, never here).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Images that need no work' {
    BeforeEach { Reset-TestServer $server }

    It 'sends a compliant JPEG and a small PNG byte for byte, and re-encodes a photo with a GPS position' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        $jpeg = New-TestImage $server (Join-Path $folder 'a.jpg') -Width 800 -Height 600 -Format jpeg
        $png = New-TestImage $server (Join-Path $folder 'b.png') -Width 8 -Height 8
        $gpsBytes = (Invoke-WebRequest -Uri "$($server.Address)/debug/image?width=800&height=600&format=jpeg&latitude=48.85&longitude=2.29").Content
        [IO.File]::WriteAllBytes((Join-Path $folder 'c.jpg'), $gpsBytes)

        $results = @(Get-ChildItem $folder -File | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test)
        $results.Count | Should -Be 3
        $byName = @{}
        $results | ForEach-Object { $byName[$_.Image] = $_ }
        $byName['a.jpg'].SentBytes | Should -Be $jpeg.Length
        $byName['b.png'].SentBytes | Should -Be $png.Length
        $byName['b.png'].SentMediaType | Should -Be 'image/png'
        $hashes = @(Get-TestServerRequest $server | ForEach-Object { $_.image.sha256 })
        $hashes | Should -Contain (Get-FileHash -LiteralPath $jpeg.FullName -Algorithm SHA256).Hash.ToLowerInvariant()
        $hashes | Should -Contain (Get-FileHash -LiteralPath $png.FullName -Algorithm SHA256).Hash.ToLowerInvariant()
        $hashes | Should -Not -Contain (Get-FileHash -LiteralPath (Join-Path $folder 'c.jpg') -Algorithm SHA256).Hash.ToLowerInvariant()
    }
}

Describe 'Look-ahead' {
    It 'sends images in the order they were listed, one at a time at -ThrottleLimit 1, while others are prepared' {
        Reset-TestServer $server @{ models = @('test'); latencyMs = 150 }
        $folder = New-TestImageFolder $server $TestDrive -Count 6
        $results = @(Get-ChildItem $folder -Filter *.png | Sort-Object Name | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -ThrottleLimit 1 -Verbose 4>&1)
        $captions = @($results | Where-Object { $_ -is [VlmCaption.CaptionResult] })
        $captions.Image | Should -Be @('i1.png', 'i2.png', 'i3.png', 'i4.png', 'i5.png', 'i6.png')
        (Get-TestServerRequest $server).image.width | Should -Be @(31, 32, 33, 34, 35, 36)
        (Get-TestServerStat $server).maxInFlight | Should -Be 1
        # Prepared ahead: i4 was prepared while i1's request waited at the server, before i1's result came out.
        $firstResult = [array]::IndexOf($results, $captions[0])
        $prepared = @(for ($i = 0; $i -lt $results.Count; $i++) { if ($results[$i] -is [System.Management.Automation.VerboseRecord] -and $results[$i].Message -like 'i4.png: Prepared*') { $i } })
        $prepared.Count | Should -Be 1
        $prepared[0] | Should -BeLessThan $firstResult
    }
}
