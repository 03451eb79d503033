# -Config on every cmdlet is a CaptionConfig, filled by one transformation from whatever a user has at hand.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
}

AfterAll {
    Stop-TestServer $server
}

Describe '-Config' {
    BeforeEach {
        Reset-TestServer $server
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
        $yaml = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $yaml "prompts: [a]`nstrip_phrases: ['The image shows ']`nno_such_key: 1"
    }

    It 'takes a path, a FileInfo or an Import-VlmCaptionConfig object alike, and its warnings reach the warning stream' -ForEach @(
        @{ Form = 'path' }, @{ Form = 'FileInfo' }, @{ Form = 'object' }
    ) {
        Push-Location $folder
        try {
            $given = switch ($Form) {
                'path' { './caption.yaml' }
                'FileInfo' { Get-Item -LiteralPath $yaml }
                'object' { Import-VlmCaptionConfig -LiteralPath $yaml -WarningAction SilentlyContinue }
            }
            $edited = [pscustomobject]@{ Caption = 'The image shows a cat' } | Edit-VlmCaption -Config $given -WarningVariable warned -WarningAction SilentlyContinue
        }
        finally {
            Pop-Location
        }

        $edited.Caption | Should -Be 'a cat'
        if ($Form -ne 'object') {
            @($warned | Where-Object { "$_" -like "*unknown key 'no_such_key'*" }).Count | Should -Be 1
        }
    }

    It 'fails to bind a file it cannot read, naming the file and line' {
        Set-Content -LiteralPath $yaml "prompts: [a]`nmax_tokens: many"
        { Edit-VlmCaption -Config $yaml -InputObject ([pscustomobject]@{ Caption = 'x' }) } | Should -Throw "*caption.yaml line 2*max_tokens*"
    }

    It 'warns once for a CSV whose every row names the same caption.yaml' {
        $image = New-TestImage -Server $server -Path (Join-Path $folder 'a.png')
        $rows = 1..3 | ForEach-Object { [pscustomobject]@{ Path = $image.FullName; Caption = "caption $_"; Config = $yaml; CaptionIndex = $_; CaptionCount = 3 } }
        $rows | Export-Csv -LiteralPath (Join-Path $folder 'rows.csv')
        Import-Csv -LiteralPath (Join-Path $folder 'rows.csv') | Save-VlmCaption -WarningVariable warned -WarningAction SilentlyContinue
        @($warned | Where-Object { "$_" -like "*unknown key 'no_such_key'*" }).Count | Should -Be 1
        Get-Content -LiteralPath (Join-Path $folder 'a.txt') | Should -Be @('caption 1', 'caption 2', 'caption 3')
    }

    It 'gives each command its own copy: a result''s configuration changed by a script is not the next command''s' {
        Set-Content -LiteralPath $yaml "model: test`nprompts: [a]`nprefix: ''"
        $image = New-TestImage -Server $server -Path (Join-Path $folder 'b.png')
        $first = Get-VlmCaption -LiteralPath $image.FullName -Config $yaml -BaseUrl $server.BaseUrl
        $first.Config.Prefix = 'changed, '
        $second = Get-VlmCaption -LiteralPath $image.FullName -Config $yaml -BaseUrl $server.BaseUrl
        $second.Config.Prefix | Should -Be ''
        [object]::ReferenceEquals($first.Config, $second.Config) | Should -BeFalse
    }

    It 'lets Invoke-VlmCaptionRun override the request settings Get-VlmCaption and Test-VlmEndpoint take, over caption.yaml' {
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'images')
        New-TestImage -Server $server -Path (Join-Path $images 'a.png') | Out-Null
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe it.]`nbase_directory: images`nmax_tokens: 900`nsystem_prompt: From the file.`nstream: true"
        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml -MaxTokens 77 -Temperature 0.3 -SystemPrompt 'From the command line.' -ReasoningEffort LOW -AdditionalBody @{ top_p = 0.5 } -NoStream -TimeoutSec 30
        $summary.Succeeded | Should -Be 1
        $body = (Get-TestServerRequest $server)[-1].body
        $body.max_tokens | Should -Be 77
        $body.temperature | Should -Be 0.3
        $body.reasoning_effort | Should -BeExactly 'low'
        $body.top_p | Should -Be 0.5
        $body.stream | Should -Not -BeTrue
        $body.messages[0].content | Should -Be 'From the command line.'
    }
}
