using System.Text;
using VlmCaption.Output;
using Xunit;

namespace VlmCaption.Tests;

public class CaptionFileTests
{
    [Theory]
    [InlineData("/d/a.png", ".txt", "/d/a.txt")]
    [InlineData("/d/a.b.jpeg", ".caption", "/d/a.b.caption")]
    public void Caption_path_replaces_the_extension(string image, string extension, string expected) =>
        Assert.Equal(expected, CaptionFile.PathFor(image, extension));

    [Theory]
    [InlineData("txt")]
    [InlineData("")]
    [InlineData("./x")]
    public void Bad_extensions_are_refused(string extension) =>
        Assert.Throws<ArgumentException>(() => CaptionFile.PathFor("/d/a.png", extension));

    [Fact]
    public void Writes_utf8_without_bom_and_leaves_no_temporary_file()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "a.txt");
        CaptionFile.WriteAtomic(path, "Ça va", overwrite: false);
        Assert.Equal(Encoding.UTF8.GetBytes("Ça va"), File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void Existing_file_is_kept_unless_overwrite()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "a.txt");
        File.WriteAllText(path, "old");
        var e = Assert.Throws<CaptionException>(() => CaptionFile.WriteAtomic(path, "new", overwrite: false));
        Assert.Equal("CaptionExists", e.ErrorId);
        Assert.Equal("old", File.ReadAllText(path));
        CaptionFile.WriteAtomic(path, "new", overwrite: true);
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void Empty_caption_is_never_written()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "a.txt");
        Assert.Equal("EmptyCaption", Assert.Throws<CaptionException>(() => CaptionFile.WriteAtomic(path, "", overwrite: true)).ErrorId);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Missing_folder_is_a_write_error_that_leaves_nothing()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "gone", "a.txt");
        Assert.Equal("CaptionWriteFailed", Assert.Throws<CaptionException>(() => CaptionFile.WriteAtomic(path, "x", overwrite: false)).ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }
}
