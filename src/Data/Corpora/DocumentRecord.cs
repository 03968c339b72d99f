namespace Orleans.MoE.Data.Corpora;

/// <summary>
/// One line of <c>documents.jsonl</c>: a document of a prepared corpus, its place in its split's
/// token shard (<see cref="Index"/> is the shard's document number), and its labels.
/// </summary>
public sealed record DocumentRecord(string Split, long Index, string Id, string Domain, string Licence, long Bytes, long Tokens);

/// <summary>The names of the two splits, as used in file names and records.</summary>
public static class CorpusSplits
{
    public const string Train = "train";
    public const string Validation = "validation";
}
