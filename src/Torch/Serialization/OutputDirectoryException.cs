namespace Orleans.MoE.Torch.Serialization;

/// <summary>
/// An output directory that may not be written: it holds something else, or it is (or lies inside,
/// or contains) one of the inputs. Nothing was written. The message names the directory, what it
/// holds and what to do instead.
/// </summary>
public sealed class OutputDirectoryException(string path, string problem) : IOException($"{path}: {problem}")
{
    public string DirectoryPath { get; } = path;
}
