namespace Orleans.MoE.Data.Shards;

/// <summary>A token shard that cannot be read; the message names the file and the problem.</summary>
public sealed class TokenShardFormatException(string path, string problem) : Exception($"{path}: {problem}")
{
    public string Path { get; } = path;
}
