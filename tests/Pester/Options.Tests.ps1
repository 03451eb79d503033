# caption.yaml's keys come from one list, [VlmCaption.ConfigOptions]::All, which the reader, the unknown-key
# warning and the about topic's table are built from. The cmdlet parameters that stand for keys cannot be
# built from it (attributes are constants), so these tests fail when one drifts from its key.
BeforeDiscovery {
    Import-Module $env:VLMCAPTION_MODULE -Force
    $pairs = foreach ($option in [VlmCaption.ConfigOptions]::All | Where-Object Parameter) {
        foreach ($command in $option.Commands) { @{ Key = $option.Key; Command = $command; Parameter = $option.Parameter } }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1') -NoServer
    $docs = Join-Path $PSScriptRoot '../../docs/en-US'
}

Describe 'caption.yaml keys and the parameters that stand for them' {
    It '<Command> -<Parameter> takes what <Key> takes, with its default' -ForEach $pairs {
        $option = [VlmCaption.ConfigOptions]::Find($Key)
        $command = Get-Command $Command -Module VlmCaption
        $command.Parameters.Keys | Should -Contain $Parameter
        $attributes = $command.Parameters[$Parameter].Attributes
        $range = $attributes | Where-Object { $_ -is [System.Management.Automation.ValidateRangeAttribute] }
        if ($null -ne $option.Minimum) {
            $range | Should -Not -BeNullOrEmpty -Because "$Key takes $($option.Minimum) to $($option.Maximum)"
            [decimal] $range.MinRange | Should -Be $option.Minimum
            [decimal] $range.MaxRange | Should -Be $option.Maximum
        }

        $set = $attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }
        if ($option.Choices.Count -gt 0) {
            $set | Should -Not -BeNullOrEmpty -Because "$Key takes only $($option.Choices -join ', ')"
            @($set.ValidValues | ForEach-Object ToLowerInvariant | Sort-Object) | Should -Be @($option.Choices | Sort-Object)
        }

        # A parameter that has a default of its own (not 0, "not given") has the key's.
        if ($option.Default -is [long] -or $option.Default -is [double]) {
            $value = [Activator]::CreateInstance($command.ImplementingType).$Parameter
            if ($value) { [decimal] $value | Should -Be ([decimal] $option.Default) }
        }
    }

    It 'says in the help of each parameter that overrides a key which key, and the key names that parameter' {
        $found = 0
        foreach ($file in Get-ChildItem $docs -Filter '*-*.md') {
            $text = (Get-Content $file.FullName -Raw) -replace "`r", ''
            foreach ($match in [regex]::Matches($text, '(?m)^### -(\w+)\n+Overrides ([a-z_]+)')) {
                $found++
                $option = [VlmCaption.ConfigOptions]::Find($match.Groups[2].Value)
                $option.Parameter | Should -Be $match.Groups[1].Value -Because "$($file.BaseName) -$($match.Groups[1].Value) says it overrides $($option.Key)"
                $option.Commands | Should -Contain $file.BaseName
            }
        }
        $found | Should -BeGreaterOrEqual 6
    }

    It 'has every key in the template New-VlmCaptionConfig writes, which reads back without a warning' {
        $path = Join-Path $TestDrive 'template.yaml'
        New-VlmCaptionConfig -Path $path | Out-Null
        $lines = Get-Content $path
        # skip_if_txt_exists is the original's name for skip_if_caption_exists; existing is the template's comment's alternative to it.
        foreach ($option in [VlmCaption.ConfigOptions]::All | Where-Object Key -NotIn 'skip_if_txt_exists', 'existing') {
            @($lines -match "^$($option.Key):").Count | Should -Be 1 -Because "the template sets $($option.Key)"
        }
        Import-VlmCaptionConfig -Path $path -WarningVariable warnings | Out-Null
        $warnings | Should -BeNullOrEmpty
    }

    It 'warns of a key that is not in the list, and names the nearest' {
        $path = Join-Path $TestDrive 'typo.yaml'
        Set-Content $path "prompts: [a]`nbatch_pol_sec: 1"
        Import-VlmCaptionConfig -Path $path -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
        "$warnings" | Should -BeLike "*unknown key 'batch_pol_sec'*Did you mean 'batch_poll_sec'?*"
    }

    It 'refuses a value outside the range the list gives, naming the key and its line' {
        $path = Join-Path $TestDrive 'range.yaml'
        Set-Content $path "prompts: [a]`nbatch_max_requests: 50001"
        { Import-VlmCaptionConfig -Path $path -ErrorAction Stop } | Should -Throw -ExpectedMessage "*line 2*batch_max_requests*50000*"
    }
}
