namespace Orleans.MoE.Data.Corpora;

/// <summary>Corpus input that cannot be used; the message names the file (and line) and the fix.</summary>
public sealed class CorpusFormatException : Exception
{
    public CorpusFormatException(string path, string problem, Exception? inner = null) : base($"{path}: {problem}", inner) => Path = path;

    public string Path { get; }
}
