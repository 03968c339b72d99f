namespace Orleans.MoE.Grains.Jobs;

/// <summary>A job as `moe watch` shows it.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.JobView")]
public sealed record JobView
{
    [Id(0)] public required string Name { get; init; }

    [Id(1)] public JobStatus Status { get; init; }

    [Id(2)] public int Attempt { get; init; }

    [Id(3)] public int Failures { get; init; }

    [Id(4)] public string DeviceClass { get; init; } = "";

    [Id(5)] public string? Silo { get; init; }

    [Id(6)] public long Step { get; init; }

    [Id(7)] public long TotalSteps { get; init; }

    [Id(8)] public double? Loss { get; init; }

    [Id(9)] public double? TokensPerSecond { get; init; }

    /// <summary>Seconds to the end of the configured steps at the current speed.</summary>
    [Id(10)] public double? EtaSeconds { get; init; }

    /// <summary>Why it waits, or why it failed.</summary>
    [Id(11)] public string? Message { get; init; }

    [Id(12)] public DateTimeOffset Updated { get; init; }
}
