using System.IO.Compression;
using System.Text;
using Orleans.MoE.Data.Corpora;

namespace Orleans.MoE.Data.Tests.Corpora;

public sealed class UserCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moe-user-corpus-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    private string WriteGzip(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(text));
        return path;
    }

    [Fact]
    public void ReadsTextMarkdownJsonlAndTheirGzipForms()
    {
        Write("a.txt", "plain text");
        Write("notes/b.md", "# heading\nmarkdown");
        WriteGzip("notes/c.txt.gz", "compressed text");
        Write("d.jsonl", "{\"text\": \"line one\", \"domain\": \"news\"}\n\n{\"text\": \"line two\", \"id\": \"x7\"}\n");
        WriteGzip("e.jsonl.gz", "{\"text\": \"zipped line\", \"domain\": \"law\"}\n");
        Write("ignored.csv", "not a corpus file");
        Write("LICENSE", "CC-BY");

        var documents = new UserCorpus(_dir, defaultDomain: "mine").ReadDocuments().ToList();
        var byText = documents.ToDictionary(d => Encoding.UTF8.GetString(d.Text));
        Assert.Equal(6, documents.Count);
        Assert.Equal("mine", byText["plain text"].Domain);
        Assert.Equal("notes", byText["# heading\nmarkdown"].Domain);
        Assert.Equal("notes", byText["compressed text"].Domain);
        Assert.Equal("news", byText["line one"].Domain);
        Assert.Equal("mine", byText["line two"].Domain);
        Assert.Equal("d.jsonl#x7", byText["line two"].Id);
        Assert.Equal("law", byText["zipped line"].Domain);
        Assert.All(documents, d => Assert.Equal(Path.Combine(_dir, "LICENSE"), d.Licence));
    }

    [Fact]
    public void KeepsInvalidUtf8BytesExactly()
    {
        var path = Path.Combine(_dir, "raw.txt");
        byte[] bytes = [0x61, 0xFF, 0xC3, 0x28, 0x0A];
        File.WriteAllBytes(path, bytes);
        Assert.Equal(bytes, new UserCorpus(path).ReadDocuments().Single().Text);
    }

    [Fact]
    public void JsonlLineWithoutTextNamesFileAndLine()
    {
        var path = Write("bad.jsonl", "{\"text\": \"ok\"}\n{\"body\": \"no text field\"}\n");
        var e = Assert.Throws<CorpusFormatException>(() => new UserCorpus(path).ReadDocuments().ToList());
        Assert.Contains($"{path}:2", e.Message);
        Assert.Contains("'text'", e.Message);
    }

    [Fact]
    public void JsonlLineThatIsNotJsonNamesFileAndLine()
    {
        var path = Write("broken.jsonl", "{\"text\": \"ok\"}\n\n{\"text\": unquoted}\n");
        var e = Assert.Throws<CorpusFormatException>(() => new UserCorpus(path).ReadDocuments().ToList());
        Assert.Contains($"{path}:3", e.Message);
    }

    [Fact]
    public void CorruptGzipIsNamed()
    {
        var path = Path.Combine(_dir, "x.txt.gz");
        File.WriteAllBytes(path, [0x1F, 0x8B, 0x08, 0x00, 0x12, 0x34, 0x56]);
        var e = Assert.Throws<CorpusFormatException>(() => new UserCorpus(_dir).ReadDocuments().ToList());
        Assert.Contains(path, e.Message);
        Assert.Contains("gzip", e.Message);
    }

    [Fact]
    public void TruncatedGzipIsNamed()
    {
        var path = WriteGzip("long.jsonl.gz", string.Concat(Enumerable.Range(0, 2000).Select(i => $"{{\"text\": \"document {i} {i * i}\"}}\n")));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<CorpusFormatException>(() => new UserCorpus(path).ReadDocuments().ToList());
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void UnreadableFileIsNamed()
    {
        // A dangling link: the name is listed but its content cannot be read (even by root).
        var path = Path.Combine(_dir, "gone.txt");
        File.CreateSymbolicLink(path, Path.Combine(_dir, "does-not-exist.txt"));
        var e = Assert.Throws<CorpusFormatException>(() => new UserCorpus(path).ReadDocuments().ToList());
        Assert.Contains(path, e.Message);
        Assert.Contains("cannot be read", e.Message);
    }

    [Fact]
    public void DirectoryWithoutCorpusFilesIsAnError()
    {
        Write("data.csv", "a,b");
        var e = Assert.Throws<CorpusFormatException>(() => new UserCorpus(_dir).ReadDocuments().ToList());
        Assert.Contains(_dir, e.Message);
        Assert.Contains(".jsonl", e.Message);
    }

    [Fact]
    public void MissingPathIsAnError()
    {
        var path = Path.Combine(_dir, "nowhere");
        Assert.Contains(path, Assert.Throws<CorpusFormatException>(() => new UserCorpus(path).ReadDocuments().ToList()).Message);
    }
}
