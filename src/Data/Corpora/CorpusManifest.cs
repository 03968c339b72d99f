using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orleans.MoE.Data.Corpora;

/// <summary>Documents, bytes and tokens of one split (of one domain, or of everything).</summary>
public sealed record SplitStatistics(long Documents, long Bytes, long Tokens)
{
    public static SplitStatistics Empty { get; } = new(0, 0, 0);

    public SplitStatistics Add(long bytes, long tokens) => new(Documents + 1, Bytes + bytes, Tokens + tokens);
}

/// <summary>One domain's share of a prepared corpus.</summary>
public sealed record DomainStatistics(string Domain, string Licence, string Boundary, SplitStatistics Train, SplitStatistics Validation);

/// <summary>
/// <c>manifest.json</c> of a prepared corpus: where the documents came from, how they were cut and
/// split, and how many documents, bytes and tokens each domain has in each split.
/// </summary>
public sealed record CorpusManifest(
    int FormatVersion,
    IReadOnlyList<string> Sources,
    int VocabSize,
    bool EndOfTextAppended,
    double ValidationFraction,
    ulong Seed,
    long EmptyDocumentsRemoved,
    long DuplicateDocumentsRemoved,
    IReadOnlyList<DomainStatistics> Domains,
    SplitStatistics Train,
    SplitStatistics Validation)
{
    public const int CurrentFormatVersion = 1;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.Strict,
    };
}
