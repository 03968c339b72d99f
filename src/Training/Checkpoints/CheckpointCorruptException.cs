namespace Orleans.MoE.Training.Checkpoints;

/// <summary>A checkpoint that fails validation: the message names the file and what is wrong.</summary>
public sealed class CheckpointCorruptException(string path, string problem) : IOException($"{path}: {problem}")
{
    public string CheckpointPath { get; } = path;

    /// <summary>Wraps another error about the file at <paramref name="path"/> without naming the path twice.</summary>
    public static CheckpointCorruptException Of(string path, Exception e) => new(path, Torch.ErrorText.ProblemOf(e, path));
}
