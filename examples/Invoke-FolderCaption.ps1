<#
.SYNOPSIS
    Captions the images of one folder with a trigger word and returns what it wrote.
.DESCRIPTION
    The pipeline way: Get-ChildItem | Get-VlmCaption | Save-VlmCaption. Images that already have a caption are
    skipped; Invoke-FolderCaption.Tests.ps1 beside it shows how to test such a script with Pester.
.EXAMPLE
    ./Invoke-FolderCaption.ps1 -Folder ./images -Model qwen2.5-vl-7b-instruct -TriggerWord 'vlmx'
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Folder,
    [string] $BaseUrl = 'http://localhost:1234/v1',
    [string] $Model,
    [string] $TriggerWord = '',
    [int] $ThrottleLimit = 2
)

$captionParameters = @{ BaseUrl = $BaseUrl; ThrottleLimit = $ThrottleLimit; SkipExisting = $true }
if ($Model) { $captionParameters.Model = $Model }
$prefix = if ($TriggerWord) { "$TriggerWord, " } else { '' }

Get-ChildItem -LiteralPath $Folder -File -Include *.png, *.jpg, *.jpeg, *.webp -Recurse |
    Get-VlmCaption @captionParameters -Prompt 'Describe the image in detail.', 'Summarise it in one sentence.' |
    Save-VlmCaption -Prefix $prefix -PassThru
