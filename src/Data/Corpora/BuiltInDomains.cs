using System.IO.Compression;
using System.Text;

namespace Orleans.MoE.Data.Corpora;

/// <summary>
/// The domains of the built-in corpus (Debian 12 package names) and how each is read:
/// <list type="bullet">
/// <item>scripture-en: bible-kjv-text, read through the bible-kjv program; one chapter per document.</item>
/// <item>fortunes-en, -de, -es, -it, -ru: the fortune packages; one fortune (text between '%' lines) per document.</item>
/// <item>c-headers: linux-libc-dev's kernel headers; one .h file per document.</item>
/// <item>python: libpython3.11-stdlib; one .py module per document.</item>
/// <item>go: golang-1.19-src; one .go file per document (testdata excluded).</item>
/// <item>gnu-prose: gnu-standards (GNU Coding Standards, Information for Maintainers); one Info node (section) per document.</item>
/// </list>
/// Files larger than <see cref="MaxDocumentBytes"/> (generated tables) are left out, and so is anything whitespace-only.
/// </summary>
public static class BuiltInDomains
{
    public const int MaxDocumentBytes = 256 * 1024;

    private const string FortuneDirectory = "/usr/share/games/fortunes/";

    public static IReadOnlyList<DebianCorpusDomain> All { get; } =
    [
        new("scripture-en", ["bible-kjv-text", "bible-kjv"], "one chapter of the King James Bible", BibleChapters),
        new("fortunes-en", ["fortunes", "fortunes-min"], "one fortune (text between '%' lines)", Fortunes),
        new("fortunes-de", ["fortunes-de"], "one fortune (text between '%' lines)", Fortunes),
        new("fortunes-es", ["fortunes-es"], "one fortune (text between '%' lines)", Fortunes),
        new("fortunes-it", ["fortunes-it"], "one fortune (text between '%' lines)", Fortunes),
        new("fortunes-ru", ["fortunes-ru"], "one fortune (text between '%' lines)", Fortunes),
        new("c-headers", ["linux-libc-dev"], "one C header file", d => SourceFiles(d, f => f.EndsWith(".h", StringComparison.Ordinal))),
        new("python", ["libpython3.11-stdlib"], "one Python module file", d => SourceFiles(d, f => f.EndsWith(".py", StringComparison.Ordinal))),
        new("go", ["golang-1.19-src"], "one Go source file (testdata excluded)",
            d => SourceFiles(d, f => f.EndsWith(".go", StringComparison.Ordinal) && !f.Contains("/testdata/", StringComparison.Ordinal))),
        new("gnu-prose", ["gnu-standards"], "one node (section) of the GNU Info manuals", InfoNodes),
    ];

    public static DebianCorpusDomain Get(string domain) =>
        All.FirstOrDefault(d => d.Domain == domain)
        ?? throw new ArgumentException($"unknown built-in domain '{domain}'; known: {string.Join(", ", All.Select(d => d.Domain))}", nameof(domain));

    private static bool Usable(string path) =>
        new FileInfo(path) is { LinkTarget: null, Length: > 0 and <= MaxDocumentBytes };

    private static bool RegularFile(string path) => new FileInfo(path) is { LinkTarget: null, Length: > 0 };

    private static bool HasText(byte[] bytes) => bytes.Any(b => b > (byte)' ');

    private static IEnumerable<CorpusDocument> SourceFiles(DebianCorpusDomain domain, Func<string, bool> select)
    {
        var files = DebianPackages.Files(domain.Packages[0]).Where(select).Where(Usable);
        foreach (var file in StableOrder.By(files, f => f))
        {
            var bytes = File.ReadAllBytes(file);
            if (HasText(bytes)) yield return domain.Document($"{domain.Packages[0]}:{file}", bytes);
        }
    }

    private static IEnumerable<CorpusDocument> Fortunes(DebianCorpusDomain domain)
    {
        var documents = new List<CorpusDocument>();
        foreach (var package in domain.Packages)
        {
            var files = DebianPackages.Files(package)
                .Where(f => f.StartsWith(FortuneDirectory, StringComparison.Ordinal)
                            && !f.EndsWith(".dat", StringComparison.Ordinal) && !f.EndsWith(".u8", StringComparison.Ordinal))
                .Where(RegularFile)
                .Order(StringComparer.Ordinal);
            foreach (var file in files)
            {
                var n = 0;
                foreach (var fortune in DocumentSplitters.Fortunes(File.ReadAllText(file, Encoding.UTF8)))
                {
                    var bytes = Encoding.UTF8.GetBytes(fortune);
                    if (bytes.Length <= MaxDocumentBytes) documents.Add(domain.Document($"{package}:{file}#{n}", bytes));
                    n++;
                }
            }
        }
        return StableOrder.By(documents, d => d.Id);
    }

    private static IEnumerable<CorpusDocument> InfoNodes(DebianCorpusDomain domain)
    {
        var documents = new List<CorpusDocument>();
        var files = DebianPackages.Files(domain.Packages[0])
            .Where(f => f.StartsWith("/usr/share/info/", StringComparison.Ordinal) && f.EndsWith(".info.gz", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            using var gzip = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip, Encoding.UTF8);
            foreach (var (node, text) in DocumentSplitters.InfoNodes(reader.ReadToEnd()))
                documents.Add(domain.Document($"{domain.Packages[0]}:{file}#{node}", Encoding.UTF8.GetBytes(text)));
        }
        return StableOrder.By(documents, d => d.Id);
    }

    /// <summary>bible-kjv-text ships the text compressed in bible-kjv's own format; its program prints it.</summary>
    private static IEnumerable<CorpusDocument> BibleChapters(DebianCorpusDomain domain)
    {
        var result = ProcessRunner.Run("bible", ["-l1000", "gen1:1-rev22:21"], TimeSpan.FromMinutes(2));
        if (result.ExitCode != 0 || result.Output.Length == 0)
            throw new DebianPackageException($"`bible -l1000 gen1:1-rev22:21` (package bible-kjv) failed with exit code {result.ExitCode}: {result.Error.Trim()}");
        var documents = DocumentSplitters.BibleChapters(result.Output)
            .Select(c => domain.Document($"bible-kjv-text:{c.Chapter}", Encoding.UTF8.GetBytes(c.Text)))
            .ToList();
        return StableOrder.By(documents, d => d.Id);
    }
}
