namespace Orleans.MoE.Grains.Experiments;

/// <summary>An experiment id is already taken by another experiment file or directory.</summary>
[GenerateSerializer]
[Alias("moe.ExperimentConflictException")]
public sealed class ExperimentConflictException : Exception
{
    public ExperimentConflictException(string message) : base(message)
    {
    }
}
