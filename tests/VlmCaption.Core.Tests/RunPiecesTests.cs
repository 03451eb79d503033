using VlmCaption.Images;
using VlmCaption.Output;
using Xunit;

namespace VlmCaption.Tests;

public class ImageWalkerTests
{
    [Fact]
    public void Walk_is_sorted_recursive_only_when_asked_and_does_not_follow_folder_links()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "b", "deep"));
        Directory.CreateDirectory(Path.Combine(folder.Path, "a"));
        foreach (string file in new[] { "z.PNG", "m.jpg", "notes.txt", "a/2.webp", "a/1.tif", "b/x.jpeg", "b/deep/y.gif", "b/deep/readme.md" })
        {
            File.WriteAllText(Path.Combine(folder.Path, file), "x");
        }

        Directory.CreateSymbolicLink(Path.Combine(folder.Path, "b", "deep", "loop"), folder.Path);
        var skipped = new List<string>();

        List<string> all = ImageWalker.Find(folder.Path, recursive: true, (path, why) => skipped.Add($"{Path.GetFileName(path)} {why}"));

        Assert.Equal(["m.jpg", "z.PNG", "a/1.tif", "a/2.webp", "b/x.jpeg", "b/deep/y.gif"], all.Select(p => Path.GetRelativePath(folder.Path, p).Replace('\\', '/')));
        Assert.Equal(["loop is a link to another folder and is not followed"], skipped);
        Assert.Equal(["m.jpg", "z.PNG"], ImageWalker.Find(folder.Path, recursive: false).Select(Path.GetFileName));
    }

    [Fact]
    public void Walk_goes_on_past_entries_that_vanish_or_cannot_be_read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // /proc/self changes while it is walked (its fd entries come and go); the walk must warn and go on.
        var skipped = new List<string>();
        Exception? e = Record.Exception(() => ImageWalker.Find("/proc/self", recursive: true, (folder, why) => skipped.Add(why)));
        Assert.Null(e);
    }

    [Fact]
    public void Walk_reports_only_our_temporary_files_old_enough_to_be_a_killed_runs()
    {
        using var folder = new TempFolder();
        // Ours and old enough; ours but being written now (another run's); a user's file that only looks alike.
        string[] old = [".vlmcaption-0123456789abcdef.tmp", ".vlmcaption-fedcba9876543210.tmp", ".notes.txt.0badf00d.tmp", "notes.tmp"];
        foreach (string file in old.Append(".vlmcaption-00000000000000aa.tmp").Append("a.png"))
        {
            File.WriteAllText(Path.Combine(folder.Path, file), "x");
        }

        foreach (string file in old)
        {
            File.SetLastWriteTimeUtc(Path.Combine(folder.Path, file), DateTime.UtcNow.AddHours(-1));
        }

        var leftovers = new List<string>();
        ImageWalker.Find(folder.Path, recursive: false, leftovers: leftovers.Add);
        Assert.Equal([".vlmcaption-0123456789abcdef.tmp", ".vlmcaption-fedcba9876543210.tmp"], leftovers.Select(Path.GetFileName).Order());
    }
}

public class JsonlCaptionFileTests
{
    [Fact]
    public void Lines_are_appended_and_found_by_model_and_prompt()
    {
        using var folder = new TempFolder();
        string image = Path.Combine(folder.Path, "a.png");
        JsonlCaptionFile.Append(image, "A cat é.", "m1", "p1\n\np2");
        Assert.True(JsonlCaptionFile.HasCaption(image, "m1", "p1\n\np2"));
        Assert.False(JsonlCaptionFile.HasCaption(image, "m2", "p1\n\np2"));
        Assert.False(JsonlCaptionFile.HasCaption(image, "m1", "p1"));
        JsonlCaptionFile.Append(image, "Another.", "m2", "p1");
        Assert.Equal(
            ["{\"text\":\"A cat é.\",\"model\":\"m1\",\"prompt\":\"p1\\n\\np2\"}", "{\"text\":\"Another.\",\"model\":\"m2\",\"prompt\":\"p1\"}"],
            File.ReadAllLines(Path.Combine(folder.Path, "a.jsonl")));
    }

    [Fact]
    public void A_line_cut_short_by_a_crash_is_ignored_and_does_not_spoil_the_next()
    {
        using var folder = new TempFolder();
        string image = Path.Combine(folder.Path, "a.png");
        File.WriteAllText(Path.Combine(folder.Path, "a.jsonl"), "{\"text\":\"half");
        Assert.False(JsonlCaptionFile.HasCaption(image, "m", "p"));
        JsonlCaptionFile.Append(image, "Whole.", "m", "p");
        Assert.True(JsonlCaptionFile.HasCaption(image, "m", "p"));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(folder.Path, "a.jsonl")).Length);
    }

    [Fact]
    public void On_a_full_disk_a_line_is_appended_whole_or_not_at_all_and_no_empty_file_is_left()
    {
        // A real full file system: a 64 KiB tmpfs, which needs root; elsewhere there is nothing to test this on.
        string mount = Path.Combine(Path.GetTempPath(), "vlmcaption-full-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mount);
        if (!OperatingSystem.IsLinux() || !Run("mount", $"-t tmpfs -o size=64k tmpfs {mount}"))
        {
            Directory.Delete(mount);
            return;
        }

        try
        {
            string first = Path.Combine(mount, "first.png");
            JsonlCaptionFile.Append(first, "Small.", "m", "p");
            string jsonl = Path.Combine(mount, "first.jsonl");
            long whole = new FileInfo(jsonl).Length;

            // Far larger than the space left: the line must not go in part.
            string big = new string('x', 200_000);
            Assert.Equal("CaptionWriteFailed", Assert.Throws<CaptionException>(() => JsonlCaptionFile.Append(first, big, "m", "p")).ErrorId);
            Assert.Equal(whole, new FileInfo(jsonl).Length);
            Assert.Single(File.ReadAllLines(jsonl));

            Assert.Throws<CaptionException>(() => JsonlCaptionFile.Append(Path.Combine(mount, "second.png"), big, "m", "p"));
            Assert.False(File.Exists(Path.Combine(mount, "second.jsonl")), "a failed write left a new file");
        }
        finally
        {
            Run("umount", mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    private static bool Run(string command, string arguments)
    {
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

public class ChatHistoryFolderTests
{
    [Fact]
    public void Writes_one_file_per_turn_and_removes_a_longer_earlier_conversation()
    {
        using var folder = new TempFolder();
        string history = Path.Combine(folder.Path, "history");
        Assert.Null(ChatHistoryFolder.Write(history, ["1", "2", "3"]));
        Assert.Null(ChatHistoryFolder.Write(history, ["a", "b"]));
        Assert.Equal(["messages_1.txt", "messages_2.txt"], Directory.GetFiles(history).Select(Path.GetFileName).Order());
        Assert.Equal("b", File.ReadAllText(Path.Combine(history, "messages_2.txt")));
    }

    [Fact]
    public void A_failure_is_reported_not_thrown()
    {
        using var folder = new TempFolder();
        string blocker = Path.Combine(folder.Path, "file");
        File.WriteAllText(blocker, "x");
        Assert.Contains("could not be written", ChatHistoryFolder.Write(Path.Combine(blocker, "sub"), ["1"]));
    }
}
