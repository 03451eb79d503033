# Structured captions: a JSON schema in, asked for as each server takes it, checked, kept as an object beside the
# image, rendered to text, and read back, re-rendered and exported without asking the model again.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    Import-Module (Join-Path $PSScriptRoot '../TrainerLoaders.psm1') -Force
    $schema = @{
        type       = 'object'
        properties = @{
            subject = @{ type = 'string' }
            people  = @{ type = 'integer' }
            tags    = @{ type = 'array'; items = @{ type = 'string' } }
        }
        required   = @('subject', 'people', 'tags')
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Structured captions' {
    BeforeEach {
        Reset-TestServer $server
        $set = New-RedBlueSet $server $TestDrive
        $folder, $images, $red = $set.Folder, $set.Images, $set.Red
    }

    It 'asks with response_format json_schema and the schema in the prompt, and the answer becomes Data and a rendered caption' {
        $result = Get-VlmCaption -LiteralPath $red.FullName -BaseUrl $server.BaseUrl -Model test -Prompt 'Describe.', 'Now as JSON.' -JsonSchema $schema -Render '{subject} with {people} person; {tags}'

        $requests = @(Get-TestServerRequest $server)
        $requests.Count | Should -Be 2
        $requests[0].body.PSObject.Properties['response_format'] | Should -BeNullOrEmpty -Because 'only the caption''s turn answers with the schema by default'
        $format = $requests[1].body.response_format
        $format.type | Should -Be 'json_schema'
        $format.json_schema.name | Should -Be 'caption'
        $format.json_schema.schema.properties.people.type | Should -Be 'integer'
        $requests[1].body.messages[-1].content | Should -BeLike "Now as JSON.*matching this JSON schema:*`"subject`"*"

        $result.Status | Should -Be 'Succeeded'
        $result.Data.subject | Should -Be 'red subject'
        $result.Data.people | Should -Be 1
        @($result | Where-Object { $_.Data.people -gt 0 }).Count | Should -Be 1
        $result.Data.tags | Should -Be @('red', 'tags_one') -Because 'tags are de-duplicated, as the tag rules do'
        $result.Caption | Should -Be 'red subject with 1 person; red, tags_one'
        $result.DataJson | ConvertFrom-Json | ForEach-Object subject | Should -Be 'red subject'
    }

    It 'asks every turn with json_schema_turns all, and without -Render the caption is the compact JSON' {
        $result = Get-VlmCaption -LiteralPath $red.FullName -BaseUrl $server.BaseUrl -Model test -Prompt 'Describe.', 'Again.' -JsonSchema $schema -JsonSchemaTurns All

        @(Get-TestServerRequest $server | Where-Object { $_.body.response_format.type -eq 'json_schema' }).Count | Should -Be 2
        $result.Caption | Should -Be $result.DataJson
        ($result.Caption | ConvertFrom-Json).people | Should -Be 1
    }

    It '<Persona> constrains the answer to the schema sent as response_format' -ForEach @(
        @{ Persona = 'lmstudio'; Models = @('qwen2.5-vl-7b-instruct'); Model = 'qwen2.5-vl-7b-instruct' }
        @{ Persona = 'ollama'; Models = @('qwen2.5vl:latest'); Model = 'qwen2.5vl' }
        @{ Persona = 'llamacpp'; Models = @('gemma-3-4b-it-Q4_K_M.gguf'); Model = 'gemma' }
        @{ Persona = 'vllm'; Models = @('Qwen/Qwen2.5-VL-7B-Instruct'); Model = 'Qwen/Qwen2.5-VL-7B-Instruct' }
        @{ Persona = 'openai'; Models = @('gpt-4o-mini'); Model = 'gpt-4o-mini' }
        @{ Persona = 'gemini'; Models = @('models/gemini-2.5-flash'); Model = 'gemini-2.5-flash' }
        @{ Persona = 'mistral'; Models = @('pixtral-12b-2409'); Model = 'pixtral-12b-2409' }
    ) {
        Reset-TestServer $server -Options @{ persona = $Persona; models = $Models }
        $result = Get-VlmCaption -LiteralPath $red.FullName -BaseUrl $server.BaseUrl -Model $Model -JsonSchema $schema -WarningAction SilentlyContinue

        $result.Data.subject | Should -Be 'red subject'
        $answered = @(Get-TestServerRequest $server | Where-Object status -eq 200)
        $answered.Count | Should -Be 1
        $answered[0].schemaHonoured | Should -BeTrue
        $answered[0].body.response_format.json_schema.schema.required | Should -Contain 'people'
    }

    It 'still gets the schema from a server that ignores response_format, from the prompt (Anthropic''s layer), fenced or not' {
        Reset-TestServer $server -Options @{ persona = 'anthropic'; models = @('claude-sonnet-4-5') }
        $result = Get-VlmCaption -LiteralPath $red.FullName -BaseUrl $server.BaseUrl -Model claude-sonnet-4-5 -JsonSchema $schema -WarningAction SilentlyContinue

        (Get-TestServerRequest $server)[0].schemaHonoured | Should -BeFalse
        $result.Status | Should -Be 'Succeeded'
        $result.Data.subject | Should -Be 'red subject'
    }

    It 'stops sending response_format to a server that refuses it (an older llama-server), with one warning, and still checks the answer' {
        Reset-TestServer $server -Options @{ persona = 'llamacpp-old'; models = @('tiny') }
        $results = @(Get-ChildItem -LiteralPath $images -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model tiny -JsonSchema $schema -ThrottleLimit 1 -WarningVariable warned -WarningAction SilentlyContinue)

        $results.Count | Should -Be 2
        $results.Data.subject | Sort-Object | Should -Be @('blue subject', 'red subject')
        $requests = @(Get-TestServerRequest $server)
        $requests.Count | Should -Be 3 -Because 'the first request was refused, and only that one'
        @($requests | Where-Object { $_.body.PSObject.Properties['response_format'] }).Count | Should -Be 1
        @($warned | Where-Object { "$_" -like '*no response_format*' }).Count | Should -Be 1
    }

    It 'stops sending response_format when llama-server cannot make a grammar of the schema (its 400 "Failed to initialize samplers"), and asks by the prompt' {
        Reset-TestServer $server -Options @{ persona = 'llamacpp'; models = @('tiny'); faults = @(@{ kind = 'sampler-init' }) }
        $results = @(Get-ChildItem -LiteralPath $images -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model tiny -JsonSchema $schema -ThrottleLimit 1 -WarningVariable warned -WarningAction SilentlyContinue)

        $results.Count | Should -Be 2
        $results.Data.subject | Sort-Object | Should -Be @('blue subject', 'red subject')
        @(Get-TestServerRequest $server).Count | Should -Be 3
        "$warned" | Should -BeLike '*Failed to initialize samplers*no response_format*'
    }

    It 'asks again when the answer does not match the schema, then fails the image as SchemaMismatch with the reason' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'schema-wrong'; imageSize = '40x48'; times = 1 }, @{ kind = 'schema-wrong'; imageSize = '41x48' }) }
        $results = @(Get-ChildItem -LiteralPath $images -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -JsonSchema $schema -MaxRetries 2 -ErrorVariable failed -ErrorAction SilentlyContinue)

        $results.Count | Should -Be 1
        $results[0].Image | Should -Be 'red.png' -Because 'its first answer was wrong, the second right'
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'SchemaMismatch,*'
        "$($failed[0])" | Should -BeLike "*blue.png*did not match the JSON schema after 3 tries*required*"
        @(Get-TestServerRequest $server | Where-Object { $_.image.colour -eq 'blue' }).Count | Should -Be 3
    }

    It 'takes a PowerShell class as the schema: its properties, all required, nothing else' {
        $result = Invoke-FreshPwshScript {
            param($Module, $Url, $Image)
            Import-Module $Module
            class CharacterCaption {
                [string] $Identity
                [string] $Scene
                [int] $People
                [string[]] $Tags
                [bool] $Outdoors
            }
            $r = Get-VlmCaption -LiteralPath $Image -BaseUrl $Url -Model test -JsonSchema ([CharacterCaption]) -Render '{Identity} in {Scene}'
            "$($r.Caption)|$($r.Data.People)|$($r.Data.Outdoors)|$($r.Data.Tags -join ';')"
        } -ArgumentList $env:VLMCAPTION_MODULE, $server.BaseUrl, $red.FullName
        $result | Select-Object -Last 1 | Should -Be 'red Identity in red Scene|1|True|red;Tags_one'
        $sent = (Get-TestServerRequest $server)[0].body.response_format.json_schema.schema
        @($sent.required | Sort-Object) | Should -Be @('Identity', 'Outdoors', 'People', 'Scene', 'Tags')
        $sent.additionalProperties | Should -BeFalse
        $sent.properties.Tags.items.type | Should -Be 'string'
    }

    It 'keeps the object beside the caption, reads it back, and renders it again without a request' {
        $yaml = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe.]`nbase_directory: set`njson_schema:`n  type: object`n  properties:`n    subject: {type: string}`n    tags: {type: array, items: {type: string}}`n  required: [subject, tags]`njson_render: '{subject}'`ntag_underscores: true`ndrop_tags: [blue]"
        (Invoke-VlmCaptionRun -ConfigPath $yaml).Succeeded | Should -Be 2

        Get-Content -LiteralPath (Join-Path $images 'red.txt') | Should -Be 'red subject'
        $kept = Get-Content -LiteralPath (Join-Path $images 'red.caption.json') -Raw | ConvertFrom-Json
        $kept.tags | Should -Be @('red', 'tags one') -Because 'the tag rules went through the object: de-duplicated, underscores made spaces'
        (Get-Content -LiteralPath (Join-Path $images 'blue.caption.json') -Raw | ConvertFrom-Json).tags | Should -Be @('tags one') -Because 'blue is on the drop list'
        Test-Path -LiteralPath (Join-Path $images 'red.json') | Should -BeFalse -Because 'photo.json is the json hint''s input, never written'

        Reset-TestServer $server
        $read = @(Import-VlmCaption -Path $images)
        $read.Count | Should -Be 2
        ($read | Where-Object Image -eq 'red.png').Data.subject | Should -Be 'red subject'
        $read | Edit-VlmCaption -Render '{subject}: {tags}' | Save-VlmCaption -Force
        Get-Content -LiteralPath (Join-Path $images 'red.txt') | Should -Be 'red subject: red, tags one'
        @(Get-TestServerRequest $server).Count | Should -Be 0 -Because 'rendering again needs no model'

        # An edited object is kept as edited, and renders from there.
        $edited = Import-VlmCaption -LiteralPath (Join-Path $images 'red.png')
        $edited.Data.subject = 'a red square'
        $edited | Edit-VlmCaption -Render '{subject}' | Save-VlmCaption -Force
        Get-Content -LiteralPath (Join-Path $images 'red.txt') | Should -Be 'a red square'
        (Get-Content -LiteralPath (Join-Path $images 'red.caption.json') -Raw | ConvertFrom-Json).subject | Should -Be 'a red square'
    }

    It 'keeps the object in the jsonl line, and hands the tags to kohya''s metadata, which sd-scripts joins to the caption' {
        $yaml = Join-Path $folder 'caption.yaml'
        $file = Join-Path $folder 'caption-schema.json'
        $schema | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $file
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe.]`nbase_directory: set`noutput_format: jsonl`njson_schema: caption-schema.json`njson_render: '{subject}'"
        (Invoke-VlmCaptionRun -ConfigPath $yaml).Succeeded | Should -Be 2
        $line = Get-Content -LiteralPath (Join-Path $images 'red.jsonl') | ConvertFrom-Json
        $line.text | Should -Be 'red subject'
        $line.data.people | Should -Be 1

        $metadata = Join-Path $folder 'meta.json'
        Import-VlmCaption -Path $images -Format jsonl | Export-VlmDataset Kohya -Destination $metadata -Root $images -Force | Out-Null
        (Get-Content -LiteralPath $metadata -Raw | ConvertFrom-Json).'red.png'.tags | Should -Be 'red, tags_one'
        $read = Read-KohyaMetadata -MetadataFile $metadata -ImageDir $images
        $read[(Join-Path $images 'red.png')] | Should -Be @('red subject,red, tags_one')
    }

    It 'captions in batch rounds as live: the schema sent and stated, a wrong answer asked again in the next attempt, the object kept' {
        Reset-TestServer $server -Options @{ models = @('test'); faults = @(@{ kind = 'schema-wrong'; imageSize = '41x48'; turn = 2; times = 1 }) }
        $yaml = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe., As JSON.]`nbase_directory: set`nbatch: true`nbatch_poll_sec: 0.05`njson_schema:`n  type: object`n  properties: {subject: {type: string}, people: {type: integer}}`n  required: [subject, people]`njson_render: '{subject}, {people}'"

        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml

        $summary.Succeeded | Should -Be 2
        Get-Content -LiteralPath (Join-Path $images 'blue.txt') | Should -Be 'blue subject, 1'
        (Get-Content -LiteralPath (Join-Path $images 'red.caption.json') -Raw | ConvertFrom-Json).people | Should -Be 1
        $lines = @(Get-TestServerRequest $server)
        $second = @($lines | Where-Object { $_.turn -eq 2 })
        $second.Count | Should -Be 3 -Because 'blue''s wrong answer was asked again'
        @($second | Where-Object { $_.body.response_format.type -eq 'json_schema' }).Count | Should -Be 3
        @($lines | Where-Object { $_.turn -eq 1 -and $_.body.PSObject.Properties['response_format'] }).Count | Should -Be 0
        $second[0].body.messages[-1].content | Should -BeLike 'As JSON.*matching this JSON schema:*'
    }

    It 'refuses a schema that is not one, before any request' {
        { Get-VlmCaption -LiteralPath $red.FullName -BaseUrl $server.BaseUrl -Model test -JsonSchema '{"type": 12}' } | Should -Throw '*JSON schema of -JsonSchema cannot be used*'
        { Get-VlmCaption -LiteralPath $red.FullName -BaseUrl $server.BaseUrl -Model test -JsonSchema (Join-Path $folder 'missing.json') } | Should -Throw '*missing.json*does not exist*'
        $yaml = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe.]`nbase_directory: set`njson_schema: [1, 2]"
        { Import-VlmCaptionConfig $yaml } | Should -Throw "*line 5*'json_schema' must name a .json file or be the schema as a mapping*"
        @(Get-TestServerRequest $server -IncludeModels).Count | Should -Be 0
    }

    It 'runs the README''s example as written' {
        $readme = Get-Content (Join-Path $PSScriptRoot '../../README.md') -Raw
        $code = [regex]::Match($readme, '(?s)<!-- structured -->\s*```powershell\n(.*?)```\s*<!-- /structured -->').Groups[1].Value
        $code | Should -Not -BeNullOrEmpty
        $work = New-Item -ItemType Directory -Path (Join-Path $folder 'work')
        Move-Item -LiteralPath $images -Destination (Join-Path $work 'images')
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$env:VLMCAPTION_MODULE'; Set-Location -LiteralPath '$work'; `$PSDefaultParameterValues['*-Vlm*:BaseUrl'] = '$($server.BaseUrl)'").AddStatement().AddScript($code)
        $ps.Invoke() | Out-Null
        $errors = @($ps.Streams.Error)
        $ps.Dispose()
        $errors | Should -BeNullOrEmpty
        Get-Content -LiteralPath (Join-Path $work 'images/red.txt') | Should -Be 'red Subject in red Setting, red, Tags_one'
        (Get-Content -LiteralPath (Join-Path $work 'images/red.caption.json') -Raw | ConvertFrom-Json).People | Should -Be 1
    }

    It 'reads no object through a link out of the folder, a FIFO or a broken file: the caption comes without it, with a warning' -Skip:$IsWindows {
        $outside = New-Item -ItemType Directory -Path (Join-Path $folder 'outside')
        Set-Content -LiteralPath (Join-Path $outside 'secret.json') '{"subject": "secret"}'
        Set-Content -LiteralPath (Join-Path $images 'red.txt') 'red caption'
        Set-Content -LiteralPath (Join-Path $images 'blue.txt') 'blue caption'
        New-Item -ItemType SymbolicLink -Path (Join-Path $images 'red.caption.json') -Target (Join-Path $outside 'secret.json') | Out-Null
        & mkfifo (Join-Path $images 'blue.caption.json')

        $read = @(Import-VlmCaption -Path $images -WarningVariable warned -WarningAction SilentlyContinue)

        $read.Count | Should -Be 2
        @($read | Where-Object { $null -ne $_.Data }).Count | Should -Be 0
        @($warned).Count | Should -Be 2
        "$warned" | Should -BeLike '*red.caption.json*link out of its folder*'
    }
}
