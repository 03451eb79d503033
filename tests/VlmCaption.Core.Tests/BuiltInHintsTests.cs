using VlmCaption.Hints;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>The expected texts were produced by Python's json module, as the original tool uses it (with ensure_ascii=False).</summary>
public class BuiltInHintsTests
{
    private const string Sidecar = """
        {"title": "Cafe cat", "tags": ["a", "b"], "n": 3, "f": 1.0, "g": 2.5e-7, "h": 1e16,
         "big": 123456789012345678901234567890, "nested": {"x": [], "y": {}, "z": [{"k": null, "t": true}]},
         "q": "say \"hi\"\\ \t\u0001"}
        """;

    private const string SidecarHint =
        "Json Metadata:\n{\n  \"title\": \"Cafe cat\",\n  \"tags\": [\n    \"a\",\n    \"b\"\n  ],\n  \"n\": 3,\n  \"f\": 1.0,\n  \"g\": 2.5e-07,\n  \"h\": 1e+16,\n  \"big\": 123456789012345678901234567890,\n  \"nested\": {\n    \"x\": [],\n    \"y\": {},\n    \"z\": [\n      {\n        \"k\": null,\n        \"t\": true\n      }\n    ]\n  },\n  \"q\": \"say \\\"hi\\\"\\\\ \\t\\u0001\"\n}\n";

    private const string Metadata = """
        {"scene_type": "outdoor", "characters": ["Cloud", "Tifa"], "mood": "cheerful", "count": 2, "ratio": 0.5,
         "ok": true, "none": null, "obj": {"a": 1, "b": [1.0, "x"]}}
        """;

    private const string MetadataHint =
        "Directory metadata:\n- scene_type: outdoor\n- characters: [\"Cloud\", \"Tifa\"]\n- mood: cheerful\n- count: 2\n- ratio: 0.5\n- ok: True\n- none: None\n- obj: {\"a\": 1, \"b\": [1.0, \"x\"]}\n";

    [Fact]
    public void Json_sidecar_matches_the_original_byte_for_byte()
    {
        using var folder = new TempFolder();
        string image = Path.Combine(folder.Path, "cat.png");
        File.WriteAllText(Path.Combine(folder.Path, "cat.json"), Sidecar);
        Assert.Equal(SidecarHint, new BuiltInHints().Build(BuiltInHints.Json, image, image));
    }

    [Fact]
    public void Directory_metadata_matches_the_original_byte_for_byte()
    {
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "metadata.json"), Metadata);
        Assert.Equal(MetadataHint, new BuiltInHints().Build(BuiltInHints.Metadata, Path.Combine(folder.Path, "a.png"), "a.png"));
    }

    [Fact]
    public void Full_path_uses_the_path_as_given()
    {
        Assert.Equal("Image file information:\n- Full path: data/sub/cat.png\n", new BuiltInHints().Build(BuiltInHints.FullPath, "/abs/data/sub/cat.png", "data/sub/cat.png"));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("\"\"")]
    [InlineData("0")]
    [InlineData("null")]
    public void Empty_sidecars_give_no_hint(string json)
    {
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "a.json"), json);
        File.WriteAllText(Path.Combine(folder.Path, "metadata.json"), json);
        string image = Path.Combine(folder.Path, "a.png");
        Assert.Null(new BuiltInHints().Build(BuiltInHints.Json, image, image));
        Assert.Null(new BuiltInHints().Build(BuiltInHints.Metadata, image, image));
    }

    [Fact]
    public void Missing_sidecars_give_no_hint_and_broken_ones_fail_clearly()
    {
        using var folder = new TempFolder();
        string image = Path.Combine(folder.Path, "a.png");
        Assert.Null(new BuiltInHints().Build(BuiltInHints.Json, image, image));
        File.WriteAllText(Path.Combine(folder.Path, "a.json"), "{\"title\": ");
        var e = Assert.Throws<CaptionException>(() => new BuiltInHints().Build(BuiltInHints.Json, image, image));
        Assert.Equal("HintFailed", e.ErrorId);
        Assert.Contains("a.json", e.Message);
    }

    [Fact]
    public void Non_ascii_text_is_sent_as_is_and_a_bom_is_ignored()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(Path.Combine(folder.Path, "metadata.json"), [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes("{\"名前\": [\"ティファ\", \"Zoë\"]}")]);
        Assert.Equal("Directory metadata:\n- 名前: [\"ティファ\", \"Zoë\"]\n", new BuiltInHints().Build(BuiltInHints.Metadata, Path.Combine(folder.Path, "a.png"), "a.png"));
    }

    [Fact]
    public void Duplicate_keys_keep_the_first_position_and_the_last_value()
    {
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "metadata.json"), "{\"a\": 1, \"b\": 2, \"a\": 3}");
        Assert.Equal("Directory metadata:\n- a: 3\n- b: 2\n", new BuiltInHints().Build(BuiltInHints.Metadata, Path.Combine(folder.Path, "x.png"), "x.png"));
    }

    [Fact]
    public void Metadata_is_read_once_per_folder_per_instance()
    {
        using var folder = new TempFolder();
        string metadata = Path.Combine(folder.Path, "metadata.json");
        File.WriteAllText(metadata, "{\"mood\": \"calm\"}");
        var hints = new BuiltInHints();
        Assert.Contains("calm", hints.Build(BuiltInHints.Metadata, Path.Combine(folder.Path, "a.png"), "a"));
        File.WriteAllText(metadata, "{\"mood\": \"wild\"}");
        Assert.Contains("calm", hints.Build(BuiltInHints.Metadata, Path.Combine(folder.Path, "b.png"), "b"));
        Assert.Contains("wild", new BuiltInHints().Build(BuiltInHints.Metadata, Path.Combine(folder.Path, "b.png"), "b"));
    }

    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e-4, "0.0001")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(123.456, "123.456")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    public void Floats_are_written_as_python_repr(double value, string expected) =>
        Assert.Equal(expected, PythonJson.FloatRepr(value));
}

public class ExifHintTests
{
    [Fact]
    public void Exif_hint_names_camera_lens_date_and_position()
    {
        using var folder = new TempFolder();
        string image = folder.Image("photo.jpg", new VlmCaption.TestServer.ImageSpec
        {
            Format = "jpeg", Make = "Canon", Model = "Canon EOS R5", Lens = "RF24-70mm F2.8 L IS USM",
            Taken = "2024:05:01 12:34:56", Latitude = 48.858222, Longitude = -2.2945,
        });
        Assert.Equal(
            "EXIF metadata:\n- Camera: Canon EOS R5\n- Lens: RF24-70mm F2.8 L IS USM\n- Date taken: 2024-05-01 12:34:56\n- GPS position: 48.858222, -2.294500\n",
            new BuiltInHints().Build(BuiltInHints.Exif, image, image));
    }

    [Fact]
    public void No_exif_gives_no_hint()
    {
        using var folder = new TempFolder();
        string image = folder.Image("plain.png", new VlmCaption.TestServer.ImageSpec());
        Assert.Null(new BuiltInHints().Build(BuiltInHints.Exif, image, image));
    }
}
