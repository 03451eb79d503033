using VlmCaption.Output;
using VlmCaption.Run;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>The folder run is Core's: walked, chosen, claimed, written and counted here without a runspace.</summary>
public class FolderRunTests
{
    private sealed class Bar : IRunProgress
    {
        public int? Total { get; set; }

        public List<string> Seen { get; } = new();

        public void Captioned(string path) => Seen.Add("captioned " + Path.GetFileName(path));

        public void Truncated(string path) => Seen.Add("truncated " + Path.GetFileName(path));

        public void Failed(string path) => Seen.Add("failed " + Path.GetFileName(path));

        public void Skipped(string path) => Seen.Add("skipped " + Path.GetFileName(path));

        public void Complete()
        {
        }
    }

    private static (RunHost Host, Bar Bar, List<string> Errors, List<string> Asked, List<string> Told) Host(Func<string, bool>? answer = null)
    {
        var bar = new Bar();
        var errors = new List<string>();
        var asked = new List<string>();
        var told = new List<string>();
        var host = new RunHost
        {
            Error = (image, e) => errors.Add($"{Path.GetFileName(image)} {e.ErrorId}"),
            ShouldProcess = (target, action) =>
            {
                asked.Add($"{action}: {Path.GetFileName(target)}");
                return answer?.Invoke(target) ?? true;
            },
            Tell = (line, _) => told.Add(line),
            Progress = bar,
        };
        return (host, bar, errors, asked, told);
    }

    private static CaptionConfig Folder(TempFolder folder)
    {
        foreach (string name in new[] { "a.jpg", "a.png", "b.png", "c.png" })
        {
            File.WriteAllText(Path.Combine(folder.Path, name), "not decoded here");
        }

        File.WriteAllText(Path.Combine(folder.Path, "c.txt"), "captioned before");
        return new CaptionConfig { BaseDirectory = folder.Path, Prompts = ["Describe it."], SkipIfCaptionExists = true, Prefix = "ohwx, " };
    }

    [Fact]
    public void Chooses_claims_writes_and_counts_as_a_run_does()
    {
        using var folder = new TempFolder();
        CaptionConfig config = Folder(folder);
        var (host, bar, errors, _, _) = Host();
        using var run = new FolderRun(config, host, force: false, whatIf: false);

        List<string> images = run.Find();
        List<string> sent = run.ImagesToCaption(images, run.Action, claim: true).ToList();

        Assert.Equal(["a.jpg", "b.png"], sent.Select(Path.GetFileName));
        Assert.Equal(["a.png CaptionPathConflict"], errors);
        Assert.Equal(2, Directory.GetFiles(folder.Path, ".vlmcaption-claim-*").Length);

        var result = new CaptionResult { Path = sent[0], Caption = "  A cat.\nOn a mat. " };
        Assert.Same(result, Assert.Single(run.Completed(CaptionEvent.Completed([result], []))!));
        run.Failed(sent[1], new CaptionException("RequestFailed", CaptionErrorCategory.ProtocolError, "no"));

        Assert.Equal("ohwx, A cat. On a mat.", File.ReadAllText(Path.Combine(folder.Path, "a.txt")));
        Assert.False(File.Exists(Path.Combine(folder.Path, "b.txt")));
        Assert.Empty(Directory.GetFiles(folder.Path, ".vlmcaption-claim-*"));
        RunSummary summary = run.Summary();
        Assert.Equal((4, 1, 2, 1), (summary.Total, summary.Succeeded, summary.Failed, summary.Skipped));
        Assert.Equal(["failed a.png", "skipped c.png", "captioned a.jpg", "failed b.png"], bar.Seen);
    }

    [Fact]
    public void Under_WhatIf_asks_for_each_image_sends_none_and_tells_the_count()
    {
        using var folder = new TempFolder();
        CaptionConfig config = Folder(folder);
        var (host, _, _, asked, told) = Host(_ => false);
        using var run = new FolderRun(config, host, force: false, whatIf: true);

        Assert.Empty(run.ImagesToCaption(run.Find(), run.Action, claim: true));

        Assert.Equal(["Caption: a.jpg", "Caption: b.png", "Skip (it has a caption): c.png"], asked.OrderBy(a => a, StringComparer.Ordinal));
        Assert.Equal(["What if: 2 of 4 images would be captioned; 1 have a caption and would be skipped."], told);
        Assert.Empty(Directory.GetFiles(folder.Path, ".vlmcaption-claim-*"));
    }

    [Fact]
    public void Refuses_a_missing_folder_before_anything_is_walked()
    {
        var (host, _, _, _, _) = Host();
        var config = new CaptionConfig { BaseDirectory = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N")), Prompts = ["x"] };

        CaptionException e = Assert.Throws<CaptionException>(() => new FolderRun(config, host, force: false, whatIf: false));

        Assert.Equal("BaseDirectoryNotFound", e.ErrorId);
    }
}
