namespace Orleans.MoE.Data.Tokenization;

/// <summary>A tokenizer file that cannot be used; the message names the file and the problem.</summary>
public sealed class TokenizerFormatException(string path, string problem)
    : Exception($"{path}: {problem}")
{
    public string Path { get; } = path;
}
