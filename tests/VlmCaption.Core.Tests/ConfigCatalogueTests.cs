using System.Reflection;
using VlmCaption.Batch;
using VlmCaption.Config;
using VlmCaption.Images;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>The catalogue (ConfigOptions) is the one place an option is named: what is derived from it must follow it.</summary>
public class ConfigCatalogueTests
{
    [Fact]
    public void Every_key_but_the_older_name_has_a_property_on_CaptionConfig()
    {
        // A key whose Pascal-case name misses the property would be silently left out of defaults, reading and overlay.
        string[] missing = ConfigOptions.All.Where(o => ConfigValues.PropertyOf(typeof(CaptionConfig), o) is null).Select(o => o.Key).ToArray();
        Assert.Equal(["skip_if_txt_exists"], missing);
    }

    [Fact]
    public void A_new_configuration_and_image_options_hold_the_catalogues_defaults()
    {
        var config = new CaptionConfig();
        var images = new ImagePreparationOptions();
        int checkedDefaults = 0;
        foreach (ConfigOption option in ConfigOptions.All.Where(o => o.Default is not null && (o.Kind == "integer" || o.Kind == "number" || o.Kind == "boolean") && o.Key != "skip_if_txt_exists"))
        {
            Assert.Equal(Convert.ToDecimal(option.Default), Convert.ToDecimal(ConfigValues.Get(config, option)));
            checkedDefaults++;
            if (ConfigValues.PropertyOf(typeof(ImagePreparationOptions), option) is not null)
            {
                Assert.Equal(Convert.ToDecimal(option.Default), Convert.ToDecimal(ConfigValues.Get(images, option)));
            }
        }

        Assert.True(checkedDefaults > 20, $"only {checkedDefaults} defaults were checked");
    }

    [Fact]
    public void Every_settable_image_option_of_the_catalogue_reaches_preparation_and_the_batch_fingerprint()
    {
        var config = new CaptionConfig { MaxImageSize = 640, MaxPixels = 4_000_000, MaxImageBytes = 200_000 };
        ImagePreparationOptions options = ImagePreparationOptions.From(config);

        Assert.Equal((640, 4_000_000L, 200_000L), (options.MaxImageSize, options.MaxPixels, options.MaxImageBytes));

        // What a batch run records of its image options, and so what a resumed run compares: every property of the
        // options that stands for a caption.yaml key, so one added to both cannot be forgotten there.
        string[] keyed = typeof(ImagePreparationOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => ConfigOptions.All.FirstOrDefault(o => o.Property == p.Name)?.Key).OfType<string>().ToArray();
        Assert.Equal(["max_image_size", "max_pixels", "max_image_bytes", "clip_frames", "clip_every_sec", "clip_as", "clip_max_sec", "ffmpeg_path"], keyed.OrderBy(k => Array.IndexOf(ConfigOptions.All.Select(o => o.Key).ToArray(), k)));
        Assert.Equal("max_image_size 640, max_pixels 4000000, max_image_bytes 200000, clip_frames 8, clip_every_sec 0, clip_as frames, clip_max_sec 60, ffmpeg_path ", ConfigValues.Describe(options));
    }

    [Fact]
    public void The_reader_takes_every_number_and_switch_within_its_catalogue_range()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "caption.yaml");
        var scalars = ConfigOptions.All.Where(o => (o.Kind == "integer" || o.Kind == "number") && o.Maximum is not null).ToList();

        // Each number at its maximum (the default is never the maximum, so a key the reader skipped shows).
        File.WriteAllText(path, "prompts: [a]\n" + string.Join("\n", scalars.Select(o => $"{o.Key}: {o.Maximum}")) + "\n");
        CaptionConfig config = CaptionConfigReader.Read(path, out _);
        foreach (ConfigOption option in scalars)
        {
            Assert.True(option.Maximum == Convert.ToDecimal(ConfigValues.Get(config, option)), option.Key);
        }

        // Past the maximum fails, naming the key (long.MaxValue + 1 is no whole number at all, said otherwise).
        foreach (ConfigOption option in scalars.Where(o => o.Maximum < long.MaxValue))
        {
            File.WriteAllText(path, $"prompts: [a]\n{option.Key}: {option.Maximum + 1}\n");
            CaptionException e = Assert.Throws<CaptionException>(() => CaptionConfigReader.Read(path, out _));
            Assert.Contains($"'{option.Key}' must be between", e.Message);
        }
    }
}
