using System.Diagnostics;
using VlmCaption.Config;
using VlmCaption.Conversation;
using VlmCaption.Hints;
using VlmCaption.Images;
using VlmCaption.TestServer;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>Files a crafted dataset may hold: FIFOs, devices, huge sidecars, links out of the folder. Each is refused without a hang.</summary>
public class HostileFileTests
{
    private static string Fifo(TempFolder folder, string name)
    {
        string path = Path.Combine(folder.Path, name);
        using Process mkfifo = Process.Start("mkfifo", path)!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    /// <summary>Runs the action with a bound: a FIFO that is opened blocks for good, and this must fail rather than hang.</summary>
    private static T Bounded<T>(Func<T> action)
    {
        var work = Task.Run(action);
        Assert.True(work.Wait(TimeSpan.FromSeconds(30)), "it blocked: a FIFO was opened");
        return work.Result;
    }

    [Fact]
    public void A_fifo_named_like_a_sidecar_or_metadata_json_is_a_hint_failure_not_a_hang()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        string image = folder.Image("a.png", new ImageSpec());
        Fifo(folder, "a.json");
        Fifo(folder, "metadata.json");
        var hints = new BuiltInHints();
        var json = Bounded(() => Record.Exception(() => hints.Build(BuiltInHints.Json, image, image)));
        Assert.Contains("not a regular file", Assert.IsType<CaptionException>(json).Message);
        var metadata = Bounded(() => Record.Exception(() => hints.Build(BuiltInHints.Metadata, image, image)));
        Assert.Equal("HintFailed", Assert.IsType<CaptionException>(metadata).ErrorId);
    }

    [Fact]
    public void A_fifo_named_like_an_image_fails_alone_without_being_opened()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        string fifo = Fifo(folder, "pipe.png");
        var preparer = new ImagePreparer(new ImagePreparationOptions { MaxConcurrentDecodes = 1 });
        var e = Bounded(() => Record.Exception(() => preparer.Prepare(fifo)));
        Assert.Equal("ImageDecodeFailed", Assert.IsType<CaptionException>(e).ErrorId);
        Assert.Equal("image/png", preparer.Prepare(folder.Image("real.png", new ImageSpec())).MediaType);
    }

    [Fact]
    public void An_image_that_cannot_be_decoded_is_said_to_be_damaged_or_misnamed()
    {
        using var folder = new TempFolder();
        var preparer = new ImagePreparer(new ImagePreparationOptions { MaxConcurrentDecodes = 1 });
        string misnamed = Path.Combine(folder.Path, "notes.jpg");
        File.WriteAllText(misnamed, "These are notes, not a photograph.");
        string cut = Path.Combine(folder.Path, "cut.jpg");
        byte[] whole = File.ReadAllBytes(folder.Image("whole.jpg", new ImageSpec { Format = "jpeg" }));
        File.WriteAllBytes(cut, whole[..20]);
        Assert.Contains("none of JPEG, PNG, GIF, WebP, BMP or TIFF, though its name says JPG", Assert.IsType<CaptionException>(Record.Exception(() => preparer.Prepare(misnamed))).Message);
        Assert.Contains("starts as image/jpeg but cannot be decoded: the file is damaged", Assert.IsType<CaptionException>(Record.Exception(() => preparer.Prepare(cut))).Message);
    }

    [Fact]
    public void A_sidecar_over_the_limit_is_not_read()
    {
        using var folder = new TempFolder();
        string image = folder.Image("big.png", new ImageSpec());
        File.WriteAllText(Path.Combine(folder.Path, "big.json"), "{\"a\": \"" + new string('x', (int)BuiltInHints.MaxHintFileBytes) + "\"}");
        var e = Assert.Throws<CaptionException>(() => new BuiltInHints().Build(BuiltInHints.Json, image, image));
        Assert.Equal(CaptionErrorCategory.LimitsExceeded, e.Category);
    }

    [Fact]
    public void A_sidecar_that_links_outside_the_images_folder_is_not_followed()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var outside = new TempFolder();
        using var folder = new TempFolder();
        string secret = Path.Combine(outside.Path, "secret.json");
        File.WriteAllText(secret, "{\"token\": \"do not send\"}");
        string image = folder.Image("l.png", new ImageSpec());
        File.CreateSymbolicLink(Path.Combine(folder.Path, "l.json"), secret);
        var e = Assert.Throws<CaptionException>(() => new BuiltInHints().Build(BuiltInHints.Json, image, image));
        Assert.Contains("outside the image's folder", e.Message);

        // A link that stays in the folder is followed.
        File.WriteAllText(Path.Combine(folder.Path, "real.json"), "{\"ok\": 1}");
        string second = folder.Image("m.png", new ImageSpec());
        File.CreateSymbolicLink(Path.Combine(folder.Path, "m.json"), Path.Combine(folder.Path, "real.json"));
        Assert.StartsWith("Json Metadata:", new BuiltInHints().Build(BuiltInHints.Json, second, second));
    }

    [Theory]
    [InlineData("/dev/zero", "not a regular file")]
    [InlineData("/dev/urandom", "not a regular file")]
    public void A_device_as_the_global_metadata_file_is_a_config_error_before_anything_is_read(string device, string expected)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "caption.yaml");
        File.WriteAllText(path, $"prompts: [a]\nglobal_metadata_file: {device}\n");
        var e = Bounded(() => Record.Exception(() => CaptionConfigReader.Read(path, out _, _ => null)));
        Assert.Contains("line 2", e!.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_global_metadata_file_over_16_MiB_is_a_config_error()
    {
        using var folder = new TempFolder();
        using (var big = File.Create(Path.Combine(folder.Path, "codex.txt")))
        {
            big.SetLength(GlobalMetadata.MaxBytes + 1);
        }

        string path = Path.Combine(folder.Path, "caption.yaml");
        File.WriteAllText(path, "prompts: [a]\nglobal_metadata_file: codex.txt\n");
        var e = Assert.Throws<CaptionException>(() => CaptionConfigReader.Read(path, out _, _ => null));
        Assert.Contains("'global_metadata_file'", e.Message);
        Assert.Contains("larger than 16 MiB", e.Message);
    }
}
