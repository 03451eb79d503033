using System.Net;
using VlmCaption.Config;
using Xunit;

namespace VlmCaption.Tests;

public class CaptionConfigReaderTests
{
    /// <summary>
    /// A caption.yaml in the original tool's format with every structural trait of the file it ships (folded plain
    /// scalars with trailing spaces, quoted keys in retry_rules, api_key: '', lists at both indentations, a Windows
    /// base_directory), written for this repository in its own words.
    /// </summary>
    public static string OriginalFormatConfig() => Path.Combine(AppContext.BaseDirectory, "data", "original-format.caption.yaml");

    private static (CaptionConfig Config, IReadOnlyList<string> Warnings) Read(string yaml, Dictionary<string, string>? environment = null, string? extraFile = null)
    {
        using var folder = new TempFolder();
        if (extraFile is not null)
        {
            File.WriteAllText(Path.Combine(folder.Path, extraFile), "codex");
        }

        string path = Path.Combine(folder.Path, "caption.yaml");
        File.WriteAllText(path, yaml);
        CaptionConfig config = CaptionConfigReader.Read(path, out IReadOnlyList<string> warnings, name => environment?.GetValueOrDefault(name));
        return (config, warnings);
    }

    private static CaptionException Fails(string yaml) =>
        Assert.Throws<CaptionException>(() => Read(yaml));

    [Fact]
    public void A_caption_yaml_in_the_original_format_loads_unchanged()
    {
        string path = OriginalFormatConfig();
        CaptionConfig config = CaptionConfigReader.Read(path, out IReadOnlyList<string> warnings, _ => null);
        Assert.Empty(warnings);
        Assert.Equal(["http://10.0.0.42:1234/v1"], config.BaseUrl);
        Assert.Equal("gemma-3-27b-it", config.Model);
        Assert.Null(config.ApiKey);
        Assert.Equal(["OPENAI_API_KEY", "GEMINI_API_KEY", "STUDIO_KEY_VARIABLE"], config.ApiKeyEnvVars);
        Assert.Equal(12000, config.MaxTokens);
        Assert.Equal(1, config.ConcurrentBatchSize);

        // A plain scalar folded over lines: one space per line break, trailing spaces kept, nothing else.
        Assert.StartsWith("You look at one photograph at a time and report only what can be seen in it.", config.SystemPrompt);
        Assert.Contains("'stunning' or 'vibrant,' which", config.SystemPrompt);
        Assert.Contains("outside the frame. Metadata", config.SystemPrompt);
        Assert.EndsWith("'nobody else is in the picture.'", config.SystemPrompt);
        Assert.Null(config.GlobalMetadataFile);
        Assert.Equal(4, config.Prompts.Length);
        Assert.Equal("Using the codex or the metadata, can you name any person, object or place? Explain what makes you sure of each name.", config.Prompts[1]);
        Assert.Contains("like it.  Just say", config.Prompts[3]);
        RetryRule rule = Assert.Single(config.RetryRules);
        Assert.Equal("meta_commentary", rule.RuleName);
        Assert.Equal(8, rule.Phrases.Length);
        Assert.Equal("upon inspection", rule.Phrases[0]);
        Assert.StartsWith("Write the summary again without phrases like these: [phrases].", rule.RejectionNote);
        Assert.Equal(["full_path", "json", "metadata"], config.HintSources);
        Assert.True(config.Recursive);
        Assert.False(config.SkipIfCaptionExists);
        Assert.Equal("txt", config.OutputFormat);
        Assert.Equal(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, @"D:\photo_sets\pending")), config.BaseDirectory);
        Assert.Equal(1, config.KeyLines["base_url"]);
    }

    [Fact]
    public void Relative_paths_resolve_against_the_files_folder_and_text_is_literal()
    {
        var (config, _) = Read("prompts: ['Say ${HOME} and ${oc.env:X}']\nbase_directory: images\nglobal_metadata_file: codex.txt\nchat_history_dir: history\n", extraFile: "codex.txt");
        string folder = Path.GetDirectoryName(config.Path)!;
        Assert.Equal(Path.Combine(folder, "images"), config.BaseDirectory);
        Assert.Equal(Path.Combine(folder, "codex.txt"), config.GlobalMetadataFile);
        Assert.Equal(Path.Combine(folder, "history"), config.ChatHistoryDir);
        Assert.Equal("Say ${HOME} and ${oc.env:X}", config.Prompts[0]);
    }

    [Fact]
    public void Api_key_from_a_listed_variable_literal_with_a_warning_or_none()
    {
        var (fromEnvironment, quiet) = Read("prompts: [a]\napi_key: MY_KEY\napi_key_env_vars: [MY_KEY]\n", new() { ["MY_KEY"] = "sk-env" });
        Assert.Equal("sk-env", new NetworkCredential("", fromEnvironment.ApiKey).Password);
        Assert.Empty(quiet);

        var (literal, warned) = Read("prompts: [a]\napi_key: sk-literal\n");
        Assert.Equal("sk-literal", new NetworkCredential("", literal.ApiKey).Password);
        Assert.Contains(warned, w => w.Contains("literal key") && !w.Contains("sk-literal"));

        var (unlisted, hinted) = Read("prompts: [a]\napi_key: OPENAI_API_KEY\n");
        Assert.Contains(hinted, w => w.Contains("not listed in 'api_key_env_vars'"));

        Assert.Null(Read("prompts: [a]\napi_key: ''\n").Config.ApiKey);
    }

    [Fact]
    public void Unknown_keys_warn_with_the_nearest_known_key()
    {
        var (_, warnings) = Read("prompts: [a]\nmax_token: 5\nzzzzzz: 1\n");
        Assert.Contains(warnings, w => w.Contains("line 2") && w.Contains("'max_token'") && w.Contains("Did you mean 'max_tokens'?"));
        Assert.Contains(warnings, w => w.Contains("'zzzzzz'") && !w.Contains("Did you mean"));
    }

    [Fact]
    public void Older_skip_key_and_several_base_urls_are_read()
    {
        var (config, _) = Read("prompts: [a]\nskip_if_txt_exists: yes\nbase_url:\n  - http://a:1/v1\n  - http://b:2/v1\n");
        Assert.True(config.SkipIfCaptionExists);
        Assert.Equal(["http://a:1/v1", "http://b:2/v1"], config.BaseUrl);
    }

    [Fact]
    public void Unknown_hint_sources_warn_and_script_paths_resolve()
    {
        var (config, warnings) = Read("prompts: [a]\nhint_sources: [full_path, nope, ./mine.ps1]\n");
        Assert.Equal("full_path", config.HintSources[0]);
        Assert.Equal(Path.Combine(Path.GetDirectoryName(config.Path)!, "mine.ps1"), config.HintSources[1]);
        Assert.Contains(warnings, w => w.Contains("'nope'") && w.Contains("line 2"));
    }

    [Theory]
    [InlineData("model: x\n", "'prompts' is missing")]
    [InlineData("prompts: []\n", "line 1, column 10: 'prompts' is empty")]
    [InlineData("prompts: hello\n", "line 1, column 10: 'prompts' must be a list")]
    [InlineData("prompts: [a, '']\n", "prompt 2 of 'prompts' is empty")]
    [InlineData("prompts: [a]\nmax_tokens: lots\n", "line 2, column 13: 'max_tokens' must be a whole number, not 'lots'")]
    [InlineData("prompts: [a]\nmax_tokens: 0\n", "'max_tokens' must be between 1")]
    [InlineData("prompts: [a]\nrecursive: maybe\n", "line 2, column 12: 'recursive' must be true or false")]
    [InlineData("prompts: [a]\nmodel: [a, A]\n", "line 2, column 8: 'model' lists 'a' twice")]
    [InlineData("prompts: [a]\nmodel: [a, '']\n", "line 2, column 8: 'model' must name a model")]
    [InlineData("prompts: [a]\noutput_format: csv\n", "'output_format' must be txt or jsonl")]
    [InlineData("prompts: [a]\nprompts: [b]\n", "line 2, column 1: Duplicate key")]
    [InlineData("prompts:\n\t- a\n", "tabs")]
    [InlineData("prompts: [a\n", "line")]
    [InlineData("", "is empty")]
    [InlineData("- a\n- b\n", "must be a mapping")]
    [InlineData("prompts: [a]\nbase_url: localhost:1234\n", "'base_url': The base URL 'localhost:1234' has no http:// or https:// in front. Type it with one, e.g. http://localhost:1234")]
    [InlineData("prompts: [a]\nbase_url: ftp://host/v1\n", "'base_url': The base URL 'ftp://host/v1' is not an http or https URL")]
    [InlineData("prompts: [a]\nglobal_metadata_file: missing.txt\n", "line 2, column 23: 'global_metadata_file'")]
    [InlineData("prompts: [a]\napi_key: K\napi_key_env_vars: [K]\n", "line 2, column 10: 'api_key' names the environment variable K, which is not set")]
    [InlineData("prompts: [a]\nretry_rules: [{rule_name: r, rejection_note: n}]\n", "'phrases'")]
    [InlineData("prompts: [a]\ncaption_extension: .PNG\n", "line 2, column 20: 'caption_extension': The caption extension '.PNG' belongs to images or their sidecars")]
    [InlineData("prompts: [a]\ncaption_extension: json\n", "'.json' belongs to images or their sidecars")]
    [InlineData("prompts: [a]\ncaption_extension: a/b\n", "is not a file extension")]
    [InlineData("prompts:\n  - a\nmodel: m\nrecursive: true\nprefix: p\n\tsuffix: s\n", "line 6, column 1: ")]
    [InlineData("prompts: [a]\ntemperature: 9\n", "'temperature' must be between 0 and 2")]
    public void Bad_configs_name_the_key_and_line(string yaml, string expected)
    {
        CaptionException e = Fails(yaml);
        Assert.Equal("InvalidConfig", e.ErrorId);
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("caption.yaml", e.Message);
    }

    [Fact]
    public async Task An_alias_bomb_is_refused_before_it_is_expanded()
    {
        // Each level lists the one before ten times: 10^9 values from under 600 bytes.
        var yaml = new System.Text.StringBuilder("prompts: [a]\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i <= 9; i++)
        {
            yaml.Append($"l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10))}]\n");
        }

        yaml.Append("? *l9\n: key\n");
        var reading = Task.Run(() => Record.Exception(() => Read(yaml.ToString())));
        Assert.True(ReferenceEquals(reading, await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(30)))), "the alias bomb was expanded");
        var e = Assert.IsType<CaptionException>(await reading);
        Assert.Equal("InvalidConfig", e.ErrorId);
        Assert.Contains("alias", e.Message);
        Assert.Contains("line ", e.Message);
    }

    [Fact]
    public void Nesting_a_hundred_thousand_levels_deep_is_an_error_not_a_crash()
    {
        string yaml = "prompts: [a]\nextra_body: " + new string('[', 100_000) + new string(']', 100_000) + "\n";
        CaptionException e = Fails(yaml);
        Assert.Contains("line 2", e.Message);
        Assert.Contains("in 'extra_body'", e.Message);
        Assert.Contains("nest more than 32 levels", e.Message);
    }

    [Fact]
    public void An_extension_without_its_dot_is_taken_with_one()
    {
        Assert.Equal(".caption", Read("prompts: [a]\ncaption_extension: caption\n").Config.CaptionExtension);
    }

    [Fact]
    public void Missing_file_says_how_to_make_one()
    {
        var e = Assert.Throws<CaptionException>(() => CaptionConfigReader.Read("/nonexistent/caption.yaml", out _));
        Assert.Equal("ConfigNotFound", e.ErrorId);
        Assert.Contains("New-VlmCaptionConfig", e.Message);
    }
}

public class ConfigTemplateTests
{
    [Fact]
    public void Template_reads_back_with_the_original_defaults_and_no_warnings()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "caption.yaml");
        File.WriteAllText(path, ConfigTemplate.Text);
        CaptionConfig config = CaptionConfigReader.Read(path, out IReadOnlyList<string> warnings, _ => null);
        Assert.Empty(warnings);
        Assert.Equal(4, config.Prompts.Length);
        Assert.Equal(16384, config.MaxTokens);
        Assert.Equal(12, Assert.Single(config.RetryRules).Phrases.Length);
        Assert.Equal(folder.Path, config.BaseDirectory);
        Assert.Null(config.Temperature);
        Assert.Null(config.ChatHistoryDir);
        Assert.Null(config.ApiKey);
        Assert.Equal("", config.Model);
        Assert.DoesNotContain("\n", config.SystemPrompt);
    }

    [Fact]
    public void An_absent_key_has_the_default_the_list_of_keys_gives_and_so_has_a_new_config()
    {
        using var folder = new TempFolder();
        string minimalPath = Path.Combine(folder.Path, "minimal.yaml");
        File.WriteAllText(minimalPath, "prompts: [a]\n");
        CaptionConfig read = CaptionConfigReader.Read(minimalPath, out _, _ => null);
        var made = new CaptionConfig();
        int compared = 0;
        foreach (ConfigOption option in ConfigOptions.All.Where(o => o.Default is not null && o.Key != "skip_if_txt_exists"))
        {
            string property = string.Concat(option.Key.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
            var info = typeof(CaptionConfig).GetProperty(property, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase)
                ?? throw new InvalidOperationException($"No property for {option.Key}");
            foreach ((string which, CaptionConfig config) in new[] { ("read", read), ("new", made) })
            {
                object? value = info.GetValue(config);
                object expected = option.Default!;
                if (expected is long or double)
                {
                    Assert.True(Convert.ToDecimal(value) == Convert.ToDecimal(expected), $"{option.Key} ({which}): {value}, the list says {expected}");
                }
                else
                {
                    Assert.True(Equals(value, expected), $"{option.Key} ({which}): {value}, the list says {expected}");
                }
            }

            compared++;
        }

        Assert.True(compared > 20, $"only {compared} defaults compared");
    }

    [Fact]
    public void Every_template_value_that_is_not_the_default_says_so_and_why()
    {
        using var folder = new TempFolder();
        string templatePath = Path.Combine(folder.Path, "template.yaml"), minimalPath = Path.Combine(folder.Path, "minimal.yaml");
        File.WriteAllText(templatePath, ConfigTemplate.Text);
        File.WriteAllText(minimalPath, "prompts: [a]\n");
        CaptionConfig template = CaptionConfigReader.Read(templatePath, out _, _ => null);
        CaptionConfig defaults = CaptionConfigReader.Read(minimalPath, out _, _ => null);
        string[] lines = ConfigTemplate.Text.Split('\n');
        var undocumented = new List<string>();
        foreach (string key in ConfigKeys.All.Where(k => k != "prompts" && k != "skip_if_txt_exists"))
        {
            string property = string.Concat(key.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
            var info = typeof(CaptionConfig).GetProperty(property, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase)
                ?? throw new InvalidOperationException($"No property for {key}");
            string Json(CaptionConfig c) => System.Text.Json.JsonSerializer.Serialize(info.GetValue(c));
            if (Json(template) == Json(defaults))
            {
                continue;
            }

            int line = Array.FindIndex(lines, l => l.StartsWith(key + ":", StringComparison.Ordinal));
            Assert.True(line >= 0, $"the template lacks {key}");
            // The comment just above the key (within a few lines, which may hold a sibling key).
            string comments = string.Join(" ", lines.Skip(Math.Max(0, line - 4)).Take(Math.Min(line, 4)).Where(l => l.StartsWith('#')));
            if (comments.IndexOf("default when absent", StringComparison.OrdinalIgnoreCase) < 0)
            {
                undocumented.Add(key);
            }
        }

        Assert.Empty(undocumented);
    }
}
