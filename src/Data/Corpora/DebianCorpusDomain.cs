namespace Orleans.MoE.Data.Corpora;

/// <summary>
/// One domain of the built-in corpus: the Debian packages that ship it, how its files are cut
/// into documents (<see cref="Boundary"/>), and the reader that does it. Documents come out in a
/// fixed pseudo-random order (see <see cref="StableOrder"/>), so that a size cap takes a spread of
/// the source.
/// </summary>
public sealed class DebianCorpusDomain : ICorpusSource
{
    private readonly Func<DebianCorpusDomain, IEnumerable<CorpusDocument>> _read;

    public DebianCorpusDomain(string domain, IReadOnlyList<string> packages, string boundary,
        Func<DebianCorpusDomain, IEnumerable<CorpusDocument>> read)
    {
        if (packages.Count == 0) throw new ArgumentException("a domain needs at least one package", nameof(packages));
        Domain = domain;
        Packages = packages;
        Boundary = boundary;
        _read = read;
    }

    public string Name => Domain;

    public string Domain { get; }

    /// <summary>The packages to install; the first one holds the text and its licence.</summary>
    public IReadOnlyList<string> Packages { get; }

    /// <summary>What one document is, in words (for the manifest).</summary>
    public string Boundary { get; }

    public string Licence => DebianPackages.CopyrightFile(Packages[0]);

    /// <summary>Reads the documents; the packages must be installed (see <see cref="DebianPackages.EnsureInstalled"/>).</summary>
    public IEnumerable<CorpusDocument> ReadDocuments() => _read(this);

    public CorpusDocument Document(string id, byte[] text) => new(id, Domain, Licence, text);
}
