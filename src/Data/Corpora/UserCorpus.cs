using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Orleans.MoE.Data.Corpora;

/// <summary>
/// A corpus of the user's own files: a directory (searched recursively) or a single file.
/// <list type="bullet">
/// <item><c>.txt</c> and <c>.md</c>: one file is one document, bytes kept exactly.</item>
/// <item><c>.jsonl</c>: one document per line, a JSON object with a string <c>text</c> and optionally a
/// string <c>domain</c> and <c>id</c>; blank lines are skipped.</item>
/// <item>The same with <c>.gz</c> appended, gzip-compressed.</item>
/// </list>
/// A document's domain is, in order: the JSONL line's <c>domain</c>, the name of the top-level
/// subdirectory that holds the file, or the default domain. The licence is the corpus root's
/// LICENSE/COPYING file when there is one. Every error names the file, and the line for JSONL.
/// </summary>
public sealed class UserCorpus(string path, string defaultDomain = "user") : ICorpusSource
{
    private static readonly string[] Extensions = [".txt", ".md", ".jsonl", ".txt.gz", ".md.gz", ".jsonl.gz"];
    private static readonly string[] LicenceNames = ["LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING"];

    public string Name => path;

    public string DefaultDomain => defaultDomain;

    public static bool IsCorpusFile(string file) => Extensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    public IEnumerable<CorpusDocument> ReadDocuments()
    {
        if (Directory.Exists(path))
        {
            var root = Path.GetFullPath(path);
            var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Where(IsCorpusFile).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
                throw new CorpusFormatException(path, $"the directory holds no corpus files (expected {string.Join(", ", Extensions)})");
            var licence = FindLicence(root);
            foreach (var file in files)
            {
                var relative = Path.GetRelativePath(root, file);
                var separator = relative.IndexOf(Path.DirectorySeparatorChar);
                var domain = separator > 0 ? relative[..separator] : defaultDomain;
                foreach (var d in ReadFile(file, relative, domain, licence)) yield return d;
            }
        }
        else if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            if (!IsCorpusFile(path))
                throw new CorpusFormatException(path, $"not a corpus file: the name must end in one of {string.Join(", ", Extensions)}");
            var full = Path.GetFullPath(path);
            foreach (var d in ReadFile(full, Path.GetFileName(full), defaultDomain, FindLicence(Path.GetDirectoryName(full)!))) yield return d;
        }
        else
        {
            throw new CorpusFormatException(path, "no such file or directory");
        }
    }

    private static string FindLicence(string directory) =>
        LicenceNames.Select(n => Path.Combine(directory, n)).FirstOrDefault(File.Exists) ?? "unspecified (user corpus)";

    private static IEnumerable<CorpusDocument> ReadFile(string file, string id, string domain, string licence)
    {
        var bytes = ReadBytes(file);
        var name = file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? file[..^3] : file;
        if (name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)) return JsonLines(bytes, file, id, domain, licence);
        return [new CorpusDocument(id, domain, licence, bytes)];
    }

    private static byte[] ReadBytes(string file)
    {
        try
        {
            if (!file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return File.ReadAllBytes(file);
            var compressed = File.ReadAllBytes(file);
            using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var buffer = new MemoryStream();
            gzip.CopyTo(buffer);
            CheckGzipTrailer(compressed, buffer.Length, file);
            return buffer.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new CorpusFormatException(file, $"cannot be read as gzip ({e.Message}); recompress it or remove the .gz suffix", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // .NET's own messages repeat the path, which the error already names.
            var problem = e switch
            {
                UnauthorizedAccessException => "permission denied",
                FileNotFoundException or DirectoryNotFoundException => "not found",
                _ => e.Message,
            };
            throw new CorpusFormatException(file, $"cannot be read ({problem}); check that it exists and is readable", e);
        }
    }

    /// <summary>
    /// The decompressor stops quietly at the end of a truncated file, so the length recorded in the
    /// gzip trailer (ISIZE, the size modulo 2^32) is compared with what came out. Concatenated gzip
    /// members record only the last member's size and are refused too; recompress such a file.
    /// </summary>
    private static void CheckGzipTrailer(byte[] compressed, long decompressedLength, string file)
    {
        if (compressed.Length < 18)
            throw new CorpusFormatException(file, $"is {compressed.Length} bytes, too short for gzip (truncated or corrupt)");
        var recorded = BinaryPrimitives.ReadUInt32LittleEndian(compressed.AsSpan(compressed.Length - 4));
        if (recorded != (uint)decompressedLength)
            throw new CorpusFormatException(file,
                $"cannot be read as gzip: its trailer records {recorded} bytes but {decompressedLength} were decompressed (truncated, corrupt, or several concatenated gzip members); recompress it");
    }

    private static IEnumerable<CorpusDocument> JsonLines(byte[] bytes, string file, string id, string domain, string licence)
    {
        var lineNumber = 0;
        var start = 0;
        while (start < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0) end = bytes.Length;
            lineNumber++;
            var line = bytes.AsMemory(start, end - start);
            start = end + 1;
            if (line.Span.Trim(" \t\r"u8).IsEmpty) continue;
            yield return ParseLine(line, file, lineNumber, id, domain, licence);
        }
    }

    private static CorpusDocument ParseLine(ReadOnlyMemory<byte> line, string file, int lineNumber, string id, string domain, string licence)
    {
        const string example = "each line must be a JSON object such as {\"text\": \"...\", \"domain\": \"news\"}";
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new CorpusFormatException($"{file}:{lineNumber}", $"not valid JSON ({e.Message}); {example}", e);
        }
        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CorpusFormatException($"{file}:{lineNumber}", $"the line is a JSON {root.ValueKind}, not an object; {example}");
            if (!root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                throw new CorpusFormatException($"{file}:{lineNumber}", $"no string field 'text'; {example}");
            var lineDomain = domain;
            if (root.TryGetProperty("domain", out var d))
            {
                if (d.ValueKind != JsonValueKind.String || d.GetString()!.Length == 0)
                    throw new CorpusFormatException($"{file}:{lineNumber}", "'domain' must be a non-empty string when present");
                lineDomain = d.GetString()!;
            }
            var lineId = root.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? $"{id}#{i.GetString()}" : $"{id}:{lineNumber}";
            return new CorpusDocument(lineId, lineDomain, licence, Encoding.UTF8.GetBytes(text.GetString()!));
        }
    }
}
