namespace Orleans.MoE.Data.Corpora;

/// <summary>
/// The built-in multi-domain corpus: the domains of <see cref="BuiltInDomains"/>, each capped at
/// <see cref="MaxBytesPerDomain"/> bytes (default 2 MiB, about 17 MB in all, so that demo runs stay
/// fast) and optionally at a number of documents. Missing packages are installed on demand when
/// running as root; otherwise the error gives the exact apt-get line.
/// </summary>
public sealed class BuiltInCorpus : ICorpusSource
{
    public const long DefaultMaxBytesPerDomain = 2L * 1024 * 1024;

    public BuiltInCorpus(long maxBytesPerDomain = DefaultMaxBytesPerDomain, int maxDocumentsPerDomain = int.MaxValue,
        IEnumerable<string>? domains = null, bool installMissingPackages = true, TextWriter? log = null)
    {
        if (maxBytesPerDomain <= 0) throw new ArgumentOutOfRangeException(nameof(maxBytesPerDomain), maxBytesPerDomain, "must be positive");
        if (maxDocumentsPerDomain <= 0) throw new ArgumentOutOfRangeException(nameof(maxDocumentsPerDomain), maxDocumentsPerDomain, "must be positive");
        MaxBytesPerDomain = maxBytesPerDomain;
        MaxDocumentsPerDomain = maxDocumentsPerDomain;
        Domains = domains is null ? BuiltInDomains.All : domains.Select(BuiltInDomains.Get).ToList();
        InstallMissingPackages = installMissingPackages;
        Log = log;
    }

    public string Name => "built-in";

    public long MaxBytesPerDomain { get; }

    public int MaxDocumentsPerDomain { get; }

    public IReadOnlyList<DebianCorpusDomain> Domains { get; }

    public bool InstallMissingPackages { get; }

    private TextWriter? Log { get; }

    /// <summary>Every Debian package the chosen domains need.</summary>
    public IReadOnlyList<string> Packages => Domains.SelectMany(d => d.Packages).Distinct().ToList();

    public IEnumerable<CorpusDocument> ReadDocuments()
    {
        if (InstallMissingPackages) DebianPackages.EnsureInstalled(Packages, log: Log);
        else
        {
            var missing = Packages.Where(p => !DebianPackages.IsInstalled(p)).ToList();
            if (missing.Count > 0)
                throw new DebianPackageException($"the built-in corpus needs Debian packages that are not installed: {DebianPackages.InstallCommand(missing)}");
        }
        foreach (var domain in Domains)
        {
            long bytes = 0;
            var documents = 0;
            foreach (var document in domain.ReadDocuments())
            {
                if (documents >= MaxDocumentsPerDomain || MaxBytesPerDomain - bytes < 256) break;
                if (bytes + document.Text.Length > MaxBytesPerDomain) continue;
                bytes += document.Text.Length;
                documents++;
                yield return document;
            }
        }
    }
}
