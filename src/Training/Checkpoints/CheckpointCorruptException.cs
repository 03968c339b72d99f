namespace Orleans.MoE.Training.Checkpoints;

/// <summary>A checkpoint that fails validation: the message names the file and what is wrong.</summary>
public sealed class CheckpointCorruptException(string path, string problem) : IOException($"{path}: {problem}")
{
    public string CheckpointPath { get; } = path;
}
