using VlmCaption.TestServer;

namespace VlmCaption.Tests;

/// <summary>A folder of generated images, deleted after the test.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vlmcaption-" + Guid.NewGuid().ToString("N"))).FullName;
    }

    public string Path { get; }

    public string Image(string name, ImageSpec spec)
    {
        string file = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(file, ImageFactory.Make(spec));
        return file;
    }

    public string Bytes(string name, byte[] bytes)
    {
        string file = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(file, bytes);
        return file;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
