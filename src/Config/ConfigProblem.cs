namespace Orleans.MoE.Config;

/// <summary>One thing wrong with a configuration: the field's path (e.g. <c>fine_tune.schedule.warmup_steps</c>, or <c>$</c> for the whole file) and what to do about it.</summary>
public sealed record ConfigProblem(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}
