# Help for VlmCaption without platyPS (not on NuGet): cmdlet help is kept as markdown in platyPS's layout
# (docs/en-US/<Cmdlet>.md), turned into MAML by ConvertTo-MamlHelp; about topics (about_*.md) into
# about_*.help.txt by ConvertTo-AboutHelp. Update-HelpMarkdown writes the parts that come from the cmdlets
# themselves (syntax, parameter metadata) and keeps the prose.

$CommonParametersText = 'This cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable, -InformationAction, -InformationVariable, -OutBuffer, -OutVariable, -PipelineVariable, -ProgressAction, -Verbose, -WarningAction, and -WarningVariable. For more information, see [about_CommonParameters](http://go.microsoft.com/fwlink/?LinkID=113216).'
$CommonNames = [System.Management.Automation.PSCmdlet]::CommonParameters

function Read-HelpMarkdown {
    <# Parses a cmdlet's markdown into its sections: Name, Synopsis, Description, Examples, Parameters, Inputs, Outputs, Notes, Links. #>
    param([Parameter(Mandatory)] [string] $Path)
    $help = [ordered]@{ Name = ''; Synopsis = ''; Syntax = @(); Description = ''; Examples = @(); Parameters = [ordered]@{}; Inputs = @(); Outputs = @(); Notes = ''; Links = @() }
    $section = $null; $sub = $null; $buffer = [Collections.Generic.List[string]]::new()
    $lines = (Get-Content -LiteralPath $Path -Raw) -replace "`r`n", "`n" -split "`n"
    $start = 0
    if ($lines[0] -eq '---') { $start = [array]::IndexOf($lines, '---', 1) + 1 }

    $flush = {
        $text = ($buffer -join "`n").Trim()
        $buffer.Clear()
        switch ($section) {
            'SYNOPSIS' { $help.Synopsis = $text }
            'SYNTAX' {
                if ($sub) {
                    # The syntax line, as the cmdlet itself prints it, gives the set's parameters in their order.
                    $names = [regex]::Matches($text, '(?<![\w-])-(\w+)') | ForEach-Object { $_.Groups[1].Value }
                    $help.Syntax += [pscustomobject]@{ Set = ($sub -replace '\s*\(Default\)$'); Names = @($names) }
                }
            }
            'DESCRIPTION' { $help.Description = $text }
            'NOTES' { $help.Notes = $text }
            'EXAMPLES' { if ($sub) { $help.Examples += @(Split-Example $sub $text) } }
            'PARAMETERS' { if ($sub -and $sub -ne 'CommonParameters') { $help.Parameters[$sub.TrimStart('-')] = Split-Parameter $text } }
            'INPUTS' { if ($sub) { $help.Inputs += [pscustomobject]@{ Type = $sub; Description = $text } } }
            'OUTPUTS' { if ($sub) { $help.Outputs += [pscustomobject]@{ Type = $sub; Description = $text } } }
            'RELATED LINKS' { $help.Links += @([regex]::Matches($text, '\[([^\]]+)\]\(([^)]*)\)') | ForEach-Object { [pscustomobject]@{ Text = $_.Groups[1].Value; Uri = $_.Groups[2].Value } }) }
        }
    }
    $inFence = $false
    for ($i = $start; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($line -match '^```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^# (.+)$') { $help.Name = $Matches[1].Trim(); continue }
        if (-not $inFence -and $line -match '^## (.+)$') { & $flush; $section = $Matches[1].Trim(); $sub = $null; continue }
        if (-not $inFence -and $line -match '^### (.+)$') { & $flush; $sub = $Matches[1].Trim(); continue }
        $buffer.Add($line)
    }
    & $flush
    [pscustomobject]$help
}

function Split-Example([string] $Title, [string] $Text) {
    $match = [regex]::Match($Text, '(?s)```(?:powershell)?\n(.*?)\n```')
    [pscustomobject]@{
        Title   = $Title
        Code    = $match.Groups[1].Value
        Remarks = $Text.Remove($match.Index, $match.Length).Trim()
    }
}

function Split-Parameter([string] $Text) {
    $match = [regex]::Match($Text, '(?s)```yaml\n(.*?)\n```')
    $meta = [ordered]@{}
    foreach ($line in $match.Groups[1].Value -split "`n") {
        if ($line -match '^([^:]+):\s*(.*)$') { $meta[$Matches[1].Trim()] = $Matches[2].Trim() }
    }
    [pscustomobject]@{ Description = $Text.Remove($match.Index, $match.Length).Trim(); Meta = $meta }
}

function Get-ParameterMeta {
    <# The yaml block of one parameter, from the cmdlet's own metadata and an instance's default value. #>
    param($Command, [string] $Name, $Instance)
    $parameter = $Command.Parameters[$Name]
    $sets = @($parameter.ParameterSets.Keys)
    $attributes = @($parameter.ParameterSets.Values)
    $pipeline = @()
    if ($attributes.ValueFromPipelineByPropertyName -contains $true) { $pipeline += 'ByPropertyName' }
    if ($attributes.ValueFromPipeline -contains $true) { $pipeline += 'ByValue' }
    $position = ($attributes | Where-Object Position -ge 0 | Select-Object -First 1).Position
    $default = if ($parameter.ParameterType -eq [switch]) { 'False' } else {
        $value = $Instance.$Name
        if ($null -eq $value -or ($value -is [string] -and $value -eq '') -or ($value -is [array] -and $value.Count -eq 0)) { 'None' }
        elseif ($value -is [array]) { ($value | ForEach-Object { "$_" }) -join ', ' }
        else { "$value" }
    }
    [ordered]@{
        'Type'                       = $parameter.ParameterType.Name
        'Parameter Sets'             = if ($sets -contains '__AllParameterSets') { '(All)' } else { $sets -join ', ' }
        'Aliases'                    = $parameter.Aliases -join ', '
        'Required'                   = [string]($attributes.IsMandatory -contains $true)
        'Position'                   = if ($null -ne $position) { "$position" } else { 'Named' }
        'Default value'              = $default
        'Accept pipeline input'      = if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }
        'Accept wildcard characters' = [string]($parameter.Attributes.TypeId.Name -contains 'SupportsWildcardsAttribute')
    }
}

function Update-HelpMarkdown {
    <#
    Writes docs/en-US/<Cmdlet>.md for every cmdlet of an imported module: syntax and parameter metadata from the
    cmdlet, prose kept from the existing file (new parts are seeded with '{{ Fill in }}', which the tests reject).
    #>
    param([Parameter(Mandatory)] [string] $ModuleName, [Parameter(Mandatory)] [string] $Folder, [string] $XmlDocPath)
    # The C# summaries of the parameter properties seed the descriptions of new parameters.
    $summaries = @{}
    if ($XmlDocPath -and (Test-Path $XmlDocPath)) {
        foreach ($member in ([xml](Get-Content -LiteralPath $XmlDocPath -Raw)).doc.members.member) {
            if ($member.name -like 'P:*') { $summaries[$member.name.Substring(2)] = ($member.summary.Trim() -replace '\s+', ' ') }
        }
    }
    foreach ($command in Get-Command -Module $ModuleName -CommandType Cmdlet) {
        $path = Join-Path $Folder "$($command.Name).md"
        $old = if (Test-Path $path) { Read-HelpMarkdown $path } else { $null }
        $instance = [Activator]::CreateInstance($command.ImplementingType)
        $fill = '{{ Fill in }}'
        $text = [Text.StringBuilder]::new()
        $null = $text.Append("---`nexternal help file: VlmCaption.PowerShell.dll-Help.xml`nModule Name: VlmCaption`nschema: 2.0.0`n---`n`n")
        $null = $text.Append("# $($command.Name)`n`n## SYNOPSIS`n$(if ($old.Synopsis) { $old.Synopsis } else { $fill })`n`n## SYNTAX`n")
        foreach ($set in $command.ParameterSets) {
            $label = if ($set.Name -eq '__AllParameterSets') { 'All' } else { $set.Name }
            if ($set.IsDefault -and $command.ParameterSets.Count -gt 1) { $label += ' (Default)' }
            $null = $text.Append("`n### $label`n``````powershell`n$($command.Name) $($set.ToString())`n```````n")
        }
        $null = $text.Append("`n## DESCRIPTION`n$(if ($old.Description) { $old.Description } else { $fill })`n`n## EXAMPLES`n")
        $examples = if ($old.Examples) { $old.Examples } else { @([pscustomobject]@{ Title = 'Example 1'; Code = $fill; Remarks = $fill }) }
        foreach ($example in $examples) {
            $null = $text.Append("`n### $($example.Title)`n``````powershell`n$($example.Code)`n```````n`n$($example.Remarks)`n")
        }
        $null = $text.Append("`n## PARAMETERS`n")
        foreach ($name in $command.Parameters.Keys | Where-Object { $_ -notin $CommonNames } | Sort-Object) {
            $seed = $summaries["$($command.ImplementingType.FullName).$name"]
            $description = if ($old -and $old.Parameters.Contains($name)) { $old.Parameters[$name].Description } elseif ($seed) { $seed } else { $fill }
            $meta = Get-ParameterMeta $command $name $instance
            $yaml = ($meta.GetEnumerator() | ForEach-Object { "$($_.Key): $($_.Value)".TrimEnd() }) -join "`n"
            $null = $text.Append("`n### -$name`n$description`n`n``````yaml`n$yaml`n```````n")
        }
        $null = $text.Append("`n### CommonParameters`n$CommonParametersText`n`n## INPUTS`n")
        $inputs = if ($old.Inputs) { $old.Inputs } else { @([pscustomobject]@{ Type = 'None'; Description = $fill }) }
        foreach ($item in $inputs) { $null = $text.Append("`n### $($item.Type)`n`n$($item.Description)`n") }
        $null = $text.Append("`n## OUTPUTS`n")
        $outputs = if ($old.Outputs) { $old.Outputs } else { @($command.OutputType | ForEach-Object { [pscustomobject]@{ Type = $_.Name; Description = $fill } }) }
        foreach ($item in $outputs) { $null = $text.Append("`n### $($item.Type)`n`n$($item.Description)`n") }
        $null = $text.Append("`n## NOTES`n$(if ($old.Notes) { $old.Notes } else { '' })`n`n## RELATED LINKS`n`n")
        $links = if ($old.Links) { $old.Links } else { @([pscustomobject]@{ Text = 'about_VlmCaption'; Uri = '' }) }
        foreach ($link in $links) { $null = $text.Append("[$($link.Text)]($($link.Uri))`n`n") }
        [IO.File]::WriteAllText($path, $text.ToString().TrimEnd() + "`n")
    }
    $about = Join-Path $Folder "about_$ModuleName.md"
    if (Test-Path $about) { Update-AboutOptionTable -Path $about }
}

function ConvertTo-MamlHelp {
    <# Turns every <Cmdlet>.md of a folder into one MAML file that Get-Help reads. #>
    param([Parameter(Mandatory)] [string] $Folder, [Parameter(Mandatory)] [string] $OutputPath)
    $settings = [Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [Text.UTF8Encoding]::new($false) }
    $writer = [Xml.XmlWriter]::Create($OutputPath, $settings)
    $maml = 'http://schemas.microsoft.com/maml/2004/10'
    $cmd = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    $dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', 'http://msh')
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($file in Get-ChildItem $Folder -Filter '*-*.md' | Sort-Object Name) {
            $help = Read-HelpMarkdown $file.FullName
            $writer.WriteStartElement('command', 'command', $cmd)
            $writer.WriteAttributeString('xmlns', 'maml', $null, $maml)
            $writer.WriteAttributeString('xmlns', 'dev', $null, $dev)
            $writer.WriteStartElement('command', 'details', $cmd)
            $writer.WriteElementString('command', 'name', $cmd, $help.Name)
            $writer.WriteElementString('command', 'verb', $cmd, $help.Name.Split('-')[0])
            $writer.WriteElementString('command', 'noun', $cmd, $help.Name.Split('-', 2)[1])
            Write-Paragraphs $writer $maml 'description' $help.Synopsis
            $writer.WriteEndElement()
            Write-Paragraphs $writer $maml 'description' $help.Description

            $writer.WriteStartElement('command', 'syntax', $cmd)
            foreach ($item in $help.Syntax) {
                $writer.WriteStartElement('command', 'syntaxItem', $cmd)
                $writer.WriteElementString('maml', 'name', $maml, $help.Name)
                foreach ($name in $item.Names | Where-Object { $help.Parameters.Contains($_) }) { Write-Parameter $writer $cmd $maml $dev $name $help.Parameters[$name] }
                $writer.WriteEndElement()
            }
            $writer.WriteEndElement()

            $writer.WriteStartElement('command', 'parameters', $cmd)
            foreach ($entry in $help.Parameters.GetEnumerator()) { Write-Parameter $writer $cmd $maml $dev $entry.Key $entry.Value }
            $writer.WriteEndElement()

            foreach ($kind in @(@('inputTypes', 'inputType', $help.Inputs), @('returnValues', 'returnValue', $help.Outputs))) {
                $writer.WriteStartElement('command', $kind[0], $cmd)
                foreach ($item in $kind[2]) {
                    $writer.WriteStartElement('command', $kind[1], $cmd)
                    $writer.WriteStartElement('dev', 'type', $dev)
                    $writer.WriteElementString('maml', 'name', $maml, $item.Type)
                    $writer.WriteEndElement()
                    Write-Paragraphs $writer $maml 'description' $item.Description
                    $writer.WriteEndElement()
                }
                $writer.WriteEndElement()
            }

            if ($help.Notes) {
                $writer.WriteStartElement('maml', 'alertSet', $maml)
                $writer.WriteStartElement('maml', 'alert', $maml)
                foreach ($para in Split-Paragraphs $help.Notes) { $writer.WriteElementString('maml', 'para', $maml, $para) }
                $writer.WriteEndElement()
                $writer.WriteEndElement()
            }

            $writer.WriteStartElement('command', 'examples', $cmd)
            foreach ($example in $help.Examples) {
                $writer.WriteStartElement('command', 'example', $cmd)
                $writer.WriteElementString('maml', 'title', $maml, "---------- $($example.Title) ----------")
                $writer.WriteElementString('dev', 'code', $dev, $example.Code)
                $writer.WriteStartElement('dev', 'remarks', $dev)
                foreach ($para in Split-Paragraphs $example.Remarks) { $writer.WriteElementString('maml', 'para', $maml, $para) }
                $writer.WriteEndElement()
                $writer.WriteEndElement()
            }
            $writer.WriteEndElement()

            $writer.WriteStartElement('command', 'relatedLinks', $cmd)
            foreach ($link in $help.Links) {
                $writer.WriteStartElement('maml', 'navigationLink', $maml)
                $writer.WriteElementString('maml', 'linkText', $maml, $link.Text)
                $writer.WriteElementString('maml', 'uri', $maml, $(if ($link.Uri -match '^https?://') { $link.Uri } else { '' }))
                $writer.WriteEndElement()
            }
            $writer.WriteEndElement()
            $writer.WriteEndElement()
        }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally {
        $writer.Dispose()
    }
}

function Write-Parameter($writer, $cmd, $maml, $dev, [string] $Name, $Parameter) {
    $meta = $Parameter.Meta
    $isSwitch = $meta['Type'] -eq 'SwitchParameter'
    $writer.WriteStartElement('command', 'parameter', $cmd)
    $writer.WriteAttributeString('required', $meta['Required'].ToLower())
    $writer.WriteAttributeString('variableLength', ($meta['Type'] -like '*`[`]').ToString().ToLower())
    $writer.WriteAttributeString('globbing', $meta['Accept wildcard characters'].ToLower())
    $writer.WriteAttributeString('pipelineInput', $meta['Accept pipeline input'])
    $writer.WriteAttributeString('position', $(if ($meta['Position'] -eq 'Named') { 'named' } else { $meta['Position'] }))
    $writer.WriteAttributeString('aliases', $(if ($meta['Aliases']) { $meta['Aliases'] } else { 'none' }))
    $writer.WriteElementString('maml', 'name', $maml, $Name)
    Write-Paragraphs $writer $maml 'description' $Parameter.Description
    if (-not $isSwitch) {
        $writer.WriteStartElement('command', 'parameterValue', $cmd)
        $writer.WriteAttributeString('required', 'true')
        $writer.WriteAttributeString('variableLength', 'false')
        $writer.WriteString($meta['Type'])
        $writer.WriteEndElement()
    }
    $writer.WriteStartElement('dev', 'type', $dev)
    $writer.WriteElementString('maml', 'name', $maml, $meta['Type'])
    $writer.WriteEndElement()
    $writer.WriteElementString('dev', 'defaultValue', $dev, $meta['Default value'])
    $writer.WriteEndElement()
}

function Split-Paragraphs([string] $Text) {
    # Markdown paragraphs become MAML paragraphs; list items stay one per paragraph; links keep their text.
    # Each is wrapped at 70 columns: Get-Help breaks lines in the middle of words at the window's edge, so
    # pre-wrapped text (indented by 4 or 8) reads well in an 80-column terminal.
    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\([^)]*\)', '$1') -replace '`', ''
    foreach ($block in $Text -split "`n\s*`n") {
        $lines = $block -split "`n"
        $paragraphs = if ($lines[0] -match '^\s*[-*] ') { $lines | ForEach-Object { $_.Trim() } }
        elseif ($block.Trim()) { ($lines | ForEach-Object { $_.Trim() }) -join ' ' }
        foreach ($paragraph in $paragraphs) { Format-Wrapped $paragraph 70 }
    }
}

function Format-Wrapped([string] $Text, [int] $Width) {
    $wrapped = [Text.StringBuilder]::new()
    $line = 0
    foreach ($word in $Text -split ' ' | Where-Object { $_ }) {
        if ($line -gt 0 -and $line + 1 + $word.Length -gt $Width) { $null = $wrapped.Append("`n"); $line = 0 }
        elseif ($line -gt 0) { $null = $wrapped.Append(' '); $line++ }
        $null = $wrapped.Append($word)
        $line += $word.Length
    }
    $wrapped.ToString()
}

function Write-Paragraphs($writer, $maml, [string] $Element, [string] $Text) {
    $writer.WriteStartElement('maml', $Element, $maml)
    foreach ($para in Split-Paragraphs $Text) { $writer.WriteElementString('maml', 'para', $maml, $para) }
    $writer.WriteEndElement()
}

function Update-AboutOptionTable {
    <# Writes the table of caption.yaml keys in about_VlmCaption.md from [VlmCaption.ConfigOptions]::All, the one list of keys. #>
    param([Parameter(Mandatory)] [string] $Path)
    $marker = '<!-- The rows below are written from [VlmCaption.ConfigOptions]::All by ./build.ps1 UpdateHelp: edit them there. -->'
    $text = (Get-Content -LiteralPath $Path -Raw) -replace "`r", ''
    $start = $text.IndexOf($marker)
    if ($start -lt 0) { throw "$Path has no line '$marker' before its table of keys." }
    $tableStart = $start + $marker.Length + 1
    $end = $text.IndexOf("`n`n", $tableStart)
    Set-Content -LiteralPath $Path -Value ($text.Substring(0, $tableStart) + [VlmCaption.ConfigOptions]::MarkdownTable() + $text.Substring($end + 1)) -NoNewline
}

function ConvertTo-AboutHelp {
    <#
    Turns about_*.md into the plain text Get-Help shows: headings in capitals, text wrapped to fit 80 columns
    and indented, code indented further, and each table row as a term with its other cells below it.
    #>
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $OutputPath)
    $out = [Collections.Generic.List[string]]::new()
    $paragraph = [Collections.Generic.List[string]]::new()
    $table = [Collections.Generic.List[string[]]]::new()
    $plain = { param($text) [regex]::Replace($text, '\[([^\]]+)\]\([^)]*\)', '$1') -replace '`', '' -replace '\\\|', '|' }
    $addWrapped = {
        param($text, $indent)
        foreach ($line in (Format-Wrapped $text (80 - $indent.Length - 4)) -split "`n") { $out.Add($indent + $line) }
    }
    $flush = {
        if ($paragraph.Count) {
            & $addWrapped (& $plain ($paragraph -join ' ')) '    '
            $out.Add('')
            $paragraph.Clear()
        }
        if ($table.Count) {
            $header = $table[0]
            foreach ($row in $table | Select-Object -Skip 2) {
                $out.Add('    ' + (& $plain $row[0]))
                for ($i = 1; $i -lt $row.Count; $i++) {
                    $label = if ($header.Count -gt 2 -and $header[$i]) { "$($header[$i]): " } else { '' }
                    & $addWrapped (& $plain "$label$($row[$i])") '        '
                }
            }
            $out.Add('')
            $table.Clear()
        }
    }
    $inFence = $false
    foreach ($raw in (Get-Content -LiteralPath $Path) -replace "`r", '') {
        if ($raw -match '^```') { & $flush; $inFence = -not $inFence; if (-not $inFence) { $out.Add('') }; continue }
        if ($inFence) { $out.Add('        ' + $raw); continue }
        # A note to whoever edits the source, not text for the reader.
        if ($raw -match '^<!--.*-->$') { continue }
        if ($raw -match '^# (.+)$') { & $flush; $out.Add('TOPIC'); $out.Add('    ' + $Matches[1].Trim()); $out.Add(''); continue }
        if ($raw -match '^## (.+)$') { & $flush; $out.Add($Matches[1].Trim().ToUpperInvariant()); $out.Add(''); continue }
        if ($raw -match '^### (.+)$') { & $flush; $out.Add('  ' + $Matches[1].Trim()); $out.Add(''); continue }
        if ($raw -match '^\|') {
            if ($paragraph.Count) { & $flush }
            $table.Add(@(($raw.Trim().Trim('|') -split '(?<!\\)\|') | ForEach-Object { $_.Trim() }))
            continue
        }
        if (-not $raw.Trim()) { & $flush; continue }
        if ($table.Count -or ($raw -match '^[-*] ' -and $paragraph.Count)) { & $flush }
        $paragraph.Add($raw.Trim())
    }
    & $flush
    [IO.File]::WriteAllText($OutputPath, (($out -join "`n").TrimEnd() + "`n"), [Text.UTF8Encoding]::new($false))
}

Export-ModuleMember -Function Read-HelpMarkdown, Update-HelpMarkdown, ConvertTo-MamlHelp, ConvertTo-AboutHelp
