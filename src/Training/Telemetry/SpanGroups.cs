namespace Orleans.MoE.Training.Telemetry;

/// <summary>
/// Which optional spans are recorded, chosen by configuration (<c>MOE_TRACE_SPANS</c>, or
/// <c>MoE:Telemetry:Spans</c> on a silo, which passes it on to its workers):
/// <c>default</c> (experiment, phase, job attempt, placement, worker, training run, checkpoint,
/// evaluation, rendezvous), <c>per_step</c> (adds one span per training step) and <c>all</c>
/// (every group there is).
/// </summary>
public enum SpanGroup
{
    Default,
    PerStep,
    All,
}

public static class SpanGroups
{
    /// <summary>The environment variable a silo and its workers read.</summary>
    public const string Variable = "MOE_TRACE_SPANS";

    /// <summary>This process's span group. A plain field: a per-step check costs one load and one compare when off.</summary>
    public static SpanGroup Current { get; set; } = FromEnvironment();

    /// <summary>Whether a span per training step is recorded.</summary>
    public static bool PerStep => Current >= SpanGroup.PerStep;

    public static SpanGroup Parse(string? text, string source) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "default" => SpanGroup.Default,
        "per_step" => SpanGroup.PerStep,
        "all" => SpanGroup.All,
        _ => throw new ArgumentException($"{source}: '{text}' is not a span group; use default, per_step or all"),
    };

    public static string Name(SpanGroup group) => group switch
    {
        SpanGroup.PerStep => "per_step",
        SpanGroup.All => "all",
        _ => "default",
    };

    private static SpanGroup FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable), Variable);
}
