<#
.SYNOPSIS
    A custom hint source: tells the model the image's file size and last change.
.DESCRIPTION
    VlmCaption runs it once per image with the image's FileInfo as the first argument (and as $_).
    Whatever it outputs becomes the hint text; no output leaves the hint out. Use it from caption.yaml
    (hint_sources: [hints/Get-SizeHint.ps1]) or with New-VlmHintSource -Name size -Path ./hints/Get-SizeHint.ps1.
#>
param([System.IO.FileInfo] $Image)

"File details:`n- Size: $([math]::Round($Image.Length / 1KB, 1)) KB`n- Last changed: $($Image.LastWriteTimeUtc.ToString('yyyy-MM-dd'))"
