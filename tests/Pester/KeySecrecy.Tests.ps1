# The API key never shows: not in output objects, any stream, progress, written files, or the server's request log.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1') -NoServer
    $sentinel = 'sk-SENTINEL-' + [guid]::NewGuid().ToString('N')
    $server = Start-TestServer -Arguments '--api-key', $sentinel
    $echoing = Start-TestServer -Arguments '--api-key', 'another-key', '--echo-key'
}

AfterAll {
    Stop-TestServer $server
    Stop-TestServer $echoing
}

Describe 'Key secrecy' {
    It 'keeps the sentinel key out of everything every cmdlet produces' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'secret')
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        1..3 | ForEach-Object { New-TestImage $server (Join-Path $images "k$_.png") -Width (40 + $_) | Out-Null }
        Set-Content (Join-Path $folder 'caption.yaml') @"
base_url: $($server.BaseUrl)
model: test
api_key: SENTINEL_KEY
api_key_env_vars: [SENTINEL_KEY]
prompts: [Describe., Summarise.]
base_directory: images
output_format: jsonl
chat_history_dir: history
"@
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($Module, $Url, $EchoUrl, $Folder, $Key)
                $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'; $InformationPreference = 'Continue'
                $ErrorActionPreference = 'Continue'
                Import-Module $Module
                $secure = ConvertTo-SecureString $Key -AsPlainText -Force
                $images = Join-Path $Folder 'images'
                Get-VlmModel -BaseUrl $Url -ApiKey $secure
                Test-VlmEndpoint -BaseUrl $Url -ApiKey $secure
                Test-VlmEndpoint -BaseUrl $EchoUrl -ApiKey $Key -Model test
                Get-VlmModel -BaseUrl $EchoUrl -ApiKey $Key
                Get-ChildItem $images -Filter *.png | Get-VlmCaption -BaseUrl $Url -ApiKey $Key -Prompt 'a', 'b' | Save-VlmCaption -PassThru -Force
                try { Get-ChildItem $images -Filter *.png | Get-VlmCaption -BaseUrl $EchoUrl -ApiKey $Key -Model test } catch { $_ }
                $env:SENTINEL_KEY = $Key
                Import-VlmCaptionConfig (Join-Path $Folder 'caption.yaml')
                Invoke-VlmCaptionRun (Join-Path $Folder 'caption.yaml') -PassThru
                $env:VLMCAPTION_API_KEY = $Key
                Get-VlmCaption -LiteralPath (Join-Path $images 'k1.png') -BaseUrl $Url -Model test
                try { Invoke-VlmCaptionRun (Join-Path $Folder 'caption.yaml') -BaseUrl $EchoUrl -Force } catch { $_ }
                # A key in the URL itself, as user info or a query value.
                $inUrl = "http://user:$Key@127.0.0.1:9/v1?key=$Key"
                Get-VlmModel -BaseUrl $inUrl
                Test-VlmEndpoint -BaseUrl $inUrl -Model test
                try { Get-VlmCaption -LiteralPath (Join-Path $images 'k1.png') -BaseUrl $inUrl -Model test } catch { $_ }
            }).AddArgument($env:VLMCAPTION_MODULE).AddArgument($server.BaseUrl).AddArgument($echoing.BaseUrl).AddArgument($folder.FullName).AddArgument($sentinel)
        try {
            $output = $ps.Invoke()
        }
        finally {
            # Environment variables belong to the process, not the runspace: leave none for the files after this one.
            Remove-Item Env:VLMCAPTION_API_KEY, Env:SENTINEL_KEY -ErrorAction Ignore
        }

        $texts = [Collections.Generic.List[string]]::new()
        foreach ($item in $output) {
            $texts.Add(($item | Format-List * -Force | Out-String -Width 500))
            # Error records are read below, whole; as JSON at depth 6 each takes seconds (the exception graph).
            if ($item -isnot [IO.FileSystemInfo] -and $item -isnot [Management.Automation.ErrorRecord]) { $texts.Add(($item | ConvertTo-Json -Depth 6 -WarningAction SilentlyContinue)) }
        }
        foreach ($record in @($ps.Streams.Error) + @($output | Where-Object { $_ -is [Management.Automation.ErrorRecord] })) {
            $texts.Add($record.ToString()); $texts.Add($record.Exception.ToString()); $texts.Add([string]$record.ErrorDetails); $texts.Add([string]$record.TargetObject)
        }
        foreach ($stream in 'Warning', 'Verbose', 'Debug', 'Information') { $ps.Streams.$stream | ForEach-Object { $texts.Add($_.ToString()) } }
        foreach ($progress in $ps.Streams.Progress) { $texts.Add("$($progress.Activity) $($progress.StatusDescription) $($progress.CurrentOperation)") }
        foreach ($file in Get-ChildItem $folder -Recurse -File) { $texts.Add((Get-Content -LiteralPath $file.FullName -Raw)) }
        foreach ($log in $server.LogPath, $echoing.LogPath) { $texts.Add((Get-Content -LiteralPath $log -Raw)) }
        $texts.Add((Invoke-WebRequest "$($server.Address)/debug/requests").Content)
        $ps.Dispose()

        # The test could fail: the key was accepted, the echoing server did echo it, and every stream was written to.
        @($output | Where-Object { $_ -is [VlmCaption.CaptionResult] }).Count | Should -Be 4
        @($output | Where-Object { $_ -is [IO.FileInfo] }).Count | Should -Be 3
        (Get-ChildItem $images -Filter *.jsonl).Count | Should -Be 3
        (Get-ChildItem (Join-Path $folder 'history')).Count | Should -Be 2
        ($texts -join "`n") | Should -Match 'Incorrect API key provided: \*\*\*'
        ($texts -join "`n") | Should -Match 'Bearer \*\*\*'
        @($output | Where-Object { $_ -is [VlmCaption.CaptionConfig] }).Count | Should -Be 1
        $texts.Count | Should -BeGreaterThan 40

        # Not the key, nor any ten characters of its random part: a key cut in half has leaked too.
        $random = $sentinel.Substring('sk-SENTINEL-'.Length)
        $pieces = 0..($random.Length - 10) | ForEach-Object { $random.Substring($_, 10) }
        $leaks = @($texts | Where-Object { $text = $_; $text -and @($pieces | Where-Object { $text.Contains($_) }).Count -gt 0 })
        $leaks | Should -BeNullOrEmpty -Because "no part of the key may appear; found in: $($leaks | ForEach-Object { $_.Substring(0, [Math]::Min(300, $_.Length)) })"
    }

    It 'warns about a literal key in caption.yaml without repeating it' {
        $path = Join-Path $TestDrive 'literal.yaml'
        Set-Content $path "prompts: [a]`napi_key: $sentinel"
        Import-VlmCaptionConfig $path -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
        $warnings[0] | Should -BeLike '*literal key*'
        $warnings[0].ToString() | Should -Not -Match $sentinel
    }
}
