# The module against the reference server playing each real server (tests/VlmCaption.TestServer/Personas.cs,
# each behaviour cited there): captions where the server can caption, a clear reason and few requests where it
# cannot, and never a bad caption saved.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')

    function New-Images([int] $Count = 3) { New-TestImageFolder $server $TestDrive -Count $Count -Prefix s -FirstWidth 41 }

    function Get-ChatRequest { @(Get-TestServerRequest $server) }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Servers that can caption' {
    It '<Persona> captions every image' -ForEach @(
        # Mistral refuses stream_options as an extra field: one refusal, then each image takes one request.
        @{ Persona = 'mistral'; Models = @('pixtral-12b-2409'); Model = 'pixtral-12b-2409'; Extra = @{}; Requests = 4 }
        @{ Persona = 'lmstudio'; Models = @('qwen2.5-vl-7b-instruct'); Model = 'qwen2.5-vl-7b-instruct'; Extra = @{} }
        @{ Persona = 'ollama'; Models = @('qwen2.5vl:latest', 'llava:13b'); Model = 'qwen2.5vl'; Extra = @{} }
        @{ Persona = 'llamacpp'; Models = @('gemma-3-4b-it-Q4_K_M.gguf'); Model = 'whatever-i-call-it'; Extra = @{} }
        @{ Persona = 'vllm'; Models = @('Qwen/Qwen2.5-VL-7B-Instruct'); Model = 'Qwen/Qwen2.5-VL-7B-Instruct'; Extra = @{} }
        @{ Persona = 'openai'; Models = @('gpt-4o-mini', 'gpt-4o'); Model = 'gpt-4o-mini'; Extra = @{ Temperature = 0.2 } }
        @{ Persona = 'gemini'; Models = @('models/gemini-2.5-flash'); Model = 'gemini-2.5-flash'; Extra = @{} }
        @{ Persona = 'openrouter'; Models = @('qwen/qwen2.5-vl-72b-instruct'); Model = 'qwen/qwen2.5-vl-72b-instruct'; Extra = @{} }
        @{ Persona = 'koboldcpp'; Models = @('koboldcpp/gemma-3-12b'); Model = 'gemma'; Extra = @{} }
        @{ Persona = 'jan'; Models = @('gemma3:4b'); Model = 'gemma3:4b'; Extra = @{ ApiKey = 'jan-key' } }
        @{ Persona = 'tabby'; Models = @('Qwen2-VL-7B-exl2'); Model = 'Qwen2-VL-7B-exl2'; Extra = @{} }
    ) {
        Reset-TestServer $server -Options @{ models = $Models; persona = $Persona }
        $folder = New-Images
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model $Model @Extra -ErrorVariable errors |
                Save-VlmCaption -PassThru)
        $errors | Should -BeNullOrEmpty
        $results.Count | Should -Be 3
        Get-Content -LiteralPath (Join-Path $folder 's1.txt') -Raw | Should -BeLike 'Red * image, 41x48 pixels. Turn 1.*'
        $expected = if ($Requests) { $Requests } else { 3 }
        (Get-ChatRequest).Count | Should -Be $expected -Because 'each image takes one request once the server is asked the right way'
        (Test-VlmEndpoint -BaseUrl $server.BaseUrl -Model $Model @Extra).Passed | Should -BeTrue
    }

    It 'asks llama-server for a fresh connection from the first request, since it closes each after a streamed answer' {
        # The llamacpp persona closes each connection right after a streamed answer, as llama-server does, and lists
        # its model owned_by "llamacpp" as llama-server does (tools/server/server-context.cpp): known from the list,
        # every request asks for its connection to be closed, so no turn goes out on one the server is closing.
        Reset-TestServer $server -Options @{ models = @('gemma-3-4b-it-Q4_K_M.gguf'); persona = 'llamacpp' }
        $folder = New-TestImageFolder $server $TestDrive -Count 24 -Prefix k -FirstWidth 41
        $config = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $config -Value "base_url: $($server.BaseUrl)`nmodel: m`nbase_directory: .`nprompts: [Describe the image., Shorten it.]`nconcurrent_batch_size: 4"
        $out = Invoke-VlmCaptionRun $config -Verbose 4>&1
        $summary = $out | Where-Object { $_ -is [VlmCaption.RunSummary] }
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $summary.Succeeded | Should -Be 24
        @($verbose -match 'Retry \d+ of') | Should -BeNullOrEmpty -Because 'a connection the server closed is no transport failure with a backoff'
        @($verbose -match 'sent again at once') | Should -BeNullOrEmpty -Because 'no request went out on a connection the server was closing'
        $requests = @(Get-ChatRequest)
        $requests.Count | Should -Be 48
        @($requests | Where-Object connection -NE 'close') | Should -BeNullOrEmpty

        # With whole answers llama-server keeps its connections, and so does the module.
        Reset-TestServer $server -Options @{ models = @('gemma-3-4b-it-Q4_K_M.gguf'); persona = 'llamacpp' }
        Get-ChildItem -LiteralPath $folder -Filter *.txt | Remove-Item
        Invoke-VlmCaptionRun $config -NoStream | Out-Null
        @(Get-ChatRequest | Where-Object connection -EQ 'close') | Should -BeNullOrEmpty
    }

    It 'keeps its connections to a server that keeps them' {
        Reset-TestServer $server -Options @{ models = @('Qwen/Qwen2.5-VL-7B-Instruct'); persona = 'vllm' }
        $folder = New-TestImageFolder $server $TestDrive -Count 6 -Prefix v -FirstWidth 41
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model Qwen/Qwen2.5-VL-7B-Instruct -ThrottleLimit 3)
        $results.Count | Should -Be 6
        @(Get-ChatRequest | Where-Object connection -EQ 'close') | Should -BeNullOrEmpty
    }

    It 'sends OpenAI reasoning models max_completion_tokens and no temperature, learned from the first refusals' {
        Reset-TestServer $server -Options @{ models = @('gpt-5-mini'); persona = 'openai-reasoning' }
        $folder = New-Images
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model gpt-5-mini -Temperature 0.2 -WarningVariable warnings)
        $results.Count | Should -Be 3
        $warnings -join ' ' | Should -BeLike "*refused*max_tokens*sent max_completion_tokens instead of max_tokens from now on*"
        $warnings -join ' ' | Should -BeLike '*temperature*sent no temperature*'
        $requests = Get-ChatRequest
        $requests.Count | Should -Be 5 -Because 'two refusals on the first image, then one request per image'
        $requests[-1].body.max_completion_tokens | Should -Be 4096
        $requests[-1].body.PSObject.Properties.Name | Should -Not -Contain 'temperature'
        (Test-VlmEndpoint -BaseUrl $server.BaseUrl -Model gpt-5-mini -Temperature 0.2).Passed | Should -BeTrue
    }

    It 'sends Mistral max_tokens when max_completion_tokens is refused as an extra field' {
        Reset-TestServer $server -Options @{ models = @('pixtral-12b-2409'); persona = 'mistral' }
        $folder = New-Images
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model pixtral-12b-2409 -UseMaxCompletionTokens -WarningVariable warnings)
        $results.Count | Should -Be 3
        $warnings -join ' ' | Should -BeLike '*body.max_completion_tokens: Extra inputs are not permitted*sent max_tokens instead*'
        $warnings -join ' ' | Should -BeLike '*body.stream_options: Extra inputs are not permitted*sent no stream_options*'
        (Get-ChatRequest).Count | Should -Be 5 -Because 'two refusals on the first image, then one request per image'
        (Get-ChatRequest)[-1].body.stream | Should -BeTrue
    }

    It 'sends vLLM and OpenRouter the listed id for a short or differently cased name, with a note' -ForEach @(
        @{ Persona = 'vllm'; Listed = 'Qwen/Qwen2.5-VL-7B-Instruct'; Typed = 'qwen2.5-vl-7b-instruct' }
        @{ Persona = 'openrouter'; Listed = 'qwen/qwen2.5-vl-72b-instruct'; Typed = 'Qwen/Qwen2.5-VL-72B-Instruct' }
    ) {
        Reset-TestServer $server -Options @{ models = @($Listed, 'other/model'); persona = $Persona }
        $folder = New-Images 1
        $result = Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model $Typed -WarningVariable warnings
        $result.Model | Should -Be $Listed
        $warnings | Should -BeLike "*lists the model '$Typed' as '$Listed'*"
        (Get-ChatRequest)[0].body.model | Should -Be $Listed
    }

    It 'lists the candidates of an ambiguous name, and the names of an unknown one, before any chat request' {
        Reset-TestServer $server -Options @{ models = @('Qwen/Qwen2.5-VL-7B-Instruct', 'unsloth/Qwen2.5-VL-7B-Instruct'); persona = 'vllm' }
        $folder = New-Images 1
        { Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model qwen2.5-vl-7b-instruct -ErrorAction Stop } |
            Should -Throw -ErrorId 'ModelAmbiguous,*' -ExpectedMessage '*Qwen/Qwen2.5-VL-7B-Instruct, unsloth/Qwen2.5-VL-7B-Instruct*'
        { Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model llava -ErrorAction Stop } |
            Should -Throw -ErrorId 'ModelNotFound,*'
        (Get-ChatRequest).Count | Should -Be 0
    }

    It 'quotes at most a few dozen names of a huge model list' {
        Reset-TestServer $server -Options @{ models = @(1..5000 | ForEach-Object { "vendor/model-$_" }); persona = 'openrouter' }
        $folder = New-Images 1
        $message = try { Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model nothing-like-it -ErrorAction Stop } catch { $_.Exception.Message }
        $message | Should -BeLike '*and 4970 more (Get-VlmModel lists them all)*'
        $message.Length | Should -BeLessThan 2000
    }

    It "goes on without Anthropic's model list, which refuses the Bearer key chat takes, and takes an alias it does not list" {
        Reset-TestServer $server -Options @{ models = @('claude-sonnet-4-5-20250929'); persona = 'anthropic' }
        $folder = New-Images
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model claude-sonnet-4-5 -ApiKey sk-ant-test -WarningVariable warnings -ErrorVariable errors)
        $errors | Should -BeNullOrEmpty
        $results.Count | Should -Be 3
        @($warnings | Where-Object { $_ -like '*model list*could not be read (HTTP 401)*' }).Count | Should -Be 1
        $test = Test-VlmEndpoint -BaseUrl $server.BaseUrl -Model claude-sonnet-4-5 -ApiKey sk-ant-test
        $test.Passed | Should -BeTrue
        $test.Notes -join ' ' | Should -BeLike '*could not be read (HTTP 401)*'
    }

    It 'waits for llama-server while it answers 503 Loading model, instead of aborting' -Tag Slow {
        Reset-TestServer $server -Options @{ models = @('model.gguf'); persona = 'llamacpp'; loadingMs = 2500 }
        $folder = New-Images 2
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model model.gguf -ErrorVariable errors -WarningVariable warnings -WarningAction SilentlyContinue)
        $errors | Should -BeNullOrEmpty
        $results.Count | Should -Be 2
        # Said while it waits, not after: a model that loads for minutes must not look like a hang.
        "$warnings" | Should -BeLike '*is loading its model (HTTP 503 Loading model); waiting for it, up to 10 minutes*'
        Reset-TestServer $server -Options @{ models = @('model.gguf'); persona = 'llamacpp'; loadingMs = 1500 }
        (Test-VlmEndpoint -BaseUrl $server.BaseUrl -Model model.gguf).Notes -join ' ' | Should -BeLike '*is loading its model*'
    }

    It "lowers the answer limit to vLLM's context, says so once, and captions" {
        Reset-TestServer $server -Options @{ models = @('Qwen/Qwen2.5-VL-3B-Instruct'); persona = 'vllm'; contextTokens = 2048 }
        $folder = New-Images
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model Qwen/Qwen2.5-VL-3B-Instruct -MaxTokens 16384 -WarningVariable warnings -ErrorVariable errors)
        $errors | Should -BeNullOrEmpty
        $results.Count | Should -Be 3
        @($warnings | Where-Object { $_ -like '*maximum context length is 2048*answer limit of*' }).Count | Should -Be 1
        (Get-ChatRequest).Count | Should -Be 4
        (Get-ChatRequest)[-1].body.max_tokens | Should -BeLessThan 2048
    }
}

Describe 'Servers that cannot caption' {
    It 'stops after a few images, one request each, when <Persona> has no vision' -ForEach @(
        @{ Persona = 'llamacpp-text'; Expected = '*image input is not supported*mmproj*' }
        @{ Persona = 'lmstudio-text'; Expected = '*HTTP 200 with an error*Model does not support images*' }
    ) {
        Reset-TestServer $server -Options @{ models = @('text-only'); persona = $Persona }
        $folder = New-Images 6
        { Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model text-only -ErrorAction SilentlyContinue -ErrorVariable script:errors } |
            Should -Throw -ErrorId 'TooManyEndpointFailures,*' -ExpectedMessage "*3 images in a row*same for every image*$($Expected.Trim('*'))*"
        (Get-ChatRequest).Count | Should -Be 3 -Because 'the error is not retried, and three of it stop the run'
        Get-ChildItem $folder -Filter *.txt | Should -BeNullOrEmpty
        $test = Test-VlmEndpoint -BaseUrl $server.BaseUrl -Model text-only
        $test.Passed | Should -BeFalse
        $test.Diagnosis -join ' ' | Should -BeLike '*cannot read images*'
    }

    It 'says both sides when the model list names the model and chat does not know it' {
        Reset-TestServer $server -Options @{ models = @('listed-model'); persona = 'vllm'; faults = @(@{ kind = 'status'; status = 404 }) }
        $folder = New-Images 2
        { Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model listed-model -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'TooManyEndpointFailures,*' -ExpectedMessage '*HTTP 404*model list named this model but the chat endpoint does not know it*'
        (Get-ChatRequest).Count | Should -Be 1
    }

    It 'fails Test-VlmEndpoint with what the run would send, so it cannot pass while the run fails' {
        Reset-TestServer $server -Options @{ models = @('models/gemini-2.5-flash'); persona = 'gemini' }
        (Test-VlmEndpoint -BaseUrl $server.BaseUrl -Model gemini-2.5-flash).Passed | Should -BeTrue
        $refused = Test-VlmEndpoint -BaseUrl $server.BaseUrl -Model gemini-2.5-flash -AdditionalBody @{ top_k = 40 }
        $refused.Passed | Should -BeFalse
        $refused.Diagnosis -join ' ' | Should -BeLike '*Unknown name "top_k"*'
        $config = Join-Path $TestDrive 'gemini.yaml'
        Set-Content $config "base_url: $($server.BaseUrl)`nmodel: gemini-2.5-flash`nprompts: [a]`nextra_body:`n  top_k: 40"
        (Test-VlmEndpoint -Config $config).Passed | Should -BeFalse
        Reset-TestServer $server -Options @{ models = @('m'); persona = 'lmstudio'; faults = @(@{ kind = 'reasoning-only' }) }
        (Test-VlmEndpoint -BaseUrl $server.BaseUrl -Model m -MaxTokens 64).Diagnosis -join ' ' | Should -BeLike '*no answer*reasoning*'
    }

    It 'finds with Test-VlmEndpoint that TabbyAPI without vision drops the image' {
        Reset-TestServer $server -Options @{ models = @('Qwen2-VL'); persona = 'tabby-novision' }
        $test = Test-VlmEndpoint -BaseUrl $server.BaseUrl -Model Qwen2-VL
        $test.SeesImages | Should -BeFalse
        $test.Diagnosis -join ' ' | Should -BeLike '*ignored the image*'
    }

    It 'stops at the first image when Jan refuses a missing key' {
        Reset-TestServer $server -Options @{ models = @('gemma3:4b'); persona = 'jan' }
        $folder = New-Images 4
        { Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model gemma3:4b -ErrorAction SilentlyContinue -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'TooManyEndpointFailures,*' -ExpectedMessage '*HTTP 401*Check the API key*'
        (Get-ChatRequest).Count | Should -Be 1
    }

    It 'stops once when a request field is refused for every image' {
        Reset-TestServer $server -Options @{ models = @('models/gemini-2.5-flash'); persona = 'gemini' }
        $folder = New-Images 5
        { Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model gemini-2.5-flash -AdditionalBody @{ top_k = 40 } -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'TooManyEndpointFailures,*' -ExpectedMessage '*Unknown name "top_k"*'
        (Get-ChatRequest).Count | Should -Be 3
    }
}

Describe 'Answers that are not captions' {
    It 'never saves <Case>' -ForEach @(
        @{ Case = 'an answer that is all reasoning (LM Studio)'; Persona = 'lmstudio'; Fault = 'reasoning-only'; Id = 'ReasoningOnly'; Message = '*no answer*reasoning*Raise -MaxTokens*-ReasoningEffort none*' }
        @{ Case = 'reasoning counted but not returned (OpenAI)'; Persona = 'openai-reasoning'; Fault = 'reasoning-only'; Id = 'ReasoningOnly'; Message = '*reasoning tokens*' }
        @{ Case = "OpenRouter's finish_reason error"; Persona = 'openrouter'; Fault = 'finish-error'; Id = 'AnswerFailed'; Message = "*finish_reason 'error': Upstream provider returned an error*" }
        @{ Case = "SGLang's abort"; Persona = 'vllm'; Fault = 'abort'; Id = 'AnswerFailed'; Message = "*finish_reason 'abort'*" }
        @{ Case = 'a content filter'; Persona = 'openai'; Fault = 'content-filter'; Id = 'ContentFiltered'; Message = "*content_filter*" }
    ) {
        Reset-TestServer $server -Options @{ models = @('m'); persona = $Persona; faults = @(@{ kind = $Fault; times = 1 }) }
        $folder = New-Images 2
        $results = @(Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model m -ErrorVariable errors -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Save-VlmCaption -PassThru)
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $errors[0].Exception.Message | Should -BeLike $Message
        $results.Count | Should -Be 1 -Because 'the other image is captioned'
        (Get-ChildItem $folder -Filter *.txt).Count | Should -Be 1
    }

    It "keeps Magistral's thinking parts out of the caption" {
        Reset-TestServer $server -Options @{ models = @('magistral-medium-2509'); persona = 'mistral'; faults = @(@{ kind = 'reasoning' }) }
        $folder = New-Images 1
        $result = Get-ChildItem $folder -Filter *.png | Get-VlmCaption -BaseUrl $server.BaseUrl -Model magistral-medium-2509
        $result.Caption | Should -BeLike 'Red * image, 41x48 pixels.*'
        $result.Caption | Should -Not -BeLike '*Let me look*'
    }
}
