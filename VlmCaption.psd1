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
        'Import-VlmCaption'
        'Edit-VlmCaption'
        'Select-VlmCaption'
        'Export-VlmDataset'
        'Export-VlmReviewPage'
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
            ProjectUri   = 'https://github.com/VlmCaption/VlmCaption'
            LicenseUri   = 'https://github.com/VlmCaption/VlmCaption/blob/main/LICENSE'
            ReleaseNotes = @'
0.1.0, the first release:
- Import-VlmCaption reads existing captions (txt or jsonl) as objects, Edit-VlmCaption post-processes them
  (replacements, phrases, tags, word limit, tidying) as caption.yaml's rules do in runs; Export-VlmDataset
  writes them as Hugging Face imagefolder, kohya, musubi-tuner or CSV dataset files; Export-VlmReviewPage writes
  one offline HTML page to look through images and captions (filter, search, sort).
- Captions beside the images or in an output folder mirroring them; several captions per image.
- Past one machine: Invoke-VlmCaptionRun -Batch captions whole datasets in rounds through a Batch API (OpenAI,
  SGLang, LiteLLM), resumable after any stop; -BatchFiles writes request files for vLLM's run-batch; -Shard i/n
  splits a shared dataset between n machines.
- Get-VlmCaption and Save-VlmCaption caption images from the pipeline, folders (-Recurse, -Include, -Exclude) or
  wildcards, through any OpenAI-compatible server; results bind back by PSPath and round-trip through CSV and Clixml.
- Invoke-VlmCaptionRun runs the Python tool's caption.yaml unchanged: multi-turn prompts, retry rules, hints, txt or
  jsonl, atomic caption files, resumable runs, several servers, -WhatIf.
- Video clips and animated GIF/WebP are captioned from their frames (or sent whole to servers that read video).
- Refusals are recognised and never saved; a fallback model takes what the first refused or failed on.
- Several models per image (-Model a, b): each model's captions kept apart, resumable per model, compared side by
  side on the review page; Select-VlmCaption picks one per image (by preference, length) or keeps all as lines.
- Import-VlmCaptionConfig, New-VlmCaptionConfig, Get-VlmHintSource, New-VlmHintSource, Get-VlmModel, Test-VlmEndpoint.
- Session defaults from VLMCAPTION_BASE_URL, VLMCAPTION_MODEL and VLMCAPTION_API_KEY.
- Large photos cost half the CPU they did: a camera's JPEG is decoded straight to the scale it is sent at.
'@
        }
    }
}
