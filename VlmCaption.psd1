@{
    RootModule           = 'VlmCaption.PowerShell.dll'
    # The one place the version is kept; build.ps1 stamps it on the assemblies.
    ModuleVersion        = '0.1.0'
    GUID                 = '5f0f7f1e-8a4e-4d7e-9a83-2c1d6c0b7a51'
    Author               = 'VlmCaption contributors'
    CompanyName          = 'VlmCaption'
    Copyright            = '(c) VlmCaption contributors. Apache-2.0.'
    Description          = 'Caption images in bulk with any vision-language model behind an OpenAI-compatible chat API (LM Studio, Ollama, vLLM, llama.cpp, OpenAI, Gemini, Anthropic): multi-turn prompts, hints, resumable runs, atomic caption files.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Core', 'Desktop')
    FormatsToProcess     = @('VlmCaption.Format.ps1xml')
    CmdletsToExport      = @(
        'Get-VlmCaption'
        'Save-VlmCaption'
        'Invoke-VlmCaptionRun'
        'Import-VlmCaptionConfig'
        'New-VlmCaptionConfig'
        'Get-VlmHintSource'
        'New-VlmHintSource'
        'Get-VlmModel'
        'Test-VlmEndpoint'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('VLM', 'Caption', 'Captioning', 'AI', 'LLM', 'OpenAI', 'LMStudio', 'Ollama', 'vLLM', 'Dataset', 'LoRA', 'StableDiffusion', 'PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://www.apache.org/licenses/LICENSE-2.0'
            ReleaseNotes = 'First release: Get-VlmCaption.'
        }
    }
}
