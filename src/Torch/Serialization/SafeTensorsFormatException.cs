namespace Orleans.MoE.Torch.Serialization;

/// <summary>A safetensors file that cannot be read: the message names the file and what is wrong.</summary>
public sealed class SafeTensorsFormatException(string path, string problem)
    : IOException($"{path}: {problem}")
{
    public string FilePath { get; } = path;
}
