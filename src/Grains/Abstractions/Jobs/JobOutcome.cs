using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Grains.Jobs;

/// <summary>How a job ended, sent by its owner to the experiment's coordinator.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.JobOutcome")]
public sealed record JobOutcome
{
    [Id(0)] public required string Name { get; init; }

    [Id(1)] public required JobStatus Status { get; init; }

    [Id(2)] public int Attempt { get; init; }

    [Id(3)] public int Failures { get; init; }

    /// <summary>The phase's measurements (JSON) when it succeeded.</summary>
    [Id(4)] public string? ResultJson { get; init; }

    /// <summary>Why the last attempt failed: where, the exit code and the worker's last words.</summary>
    [Id(5)] public string? Error { get; init; }

    /// <summary>The pool the successful attempt ran on, with its declared price.</summary>
    [Id(6)] public DevicePool? Pool { get; init; }

    [Id(7)] public string? Silo { get; init; }

    /// <summary>Seconds the successful attempt's worker ran.</summary>
    [Id(8)] public double Seconds { get; init; }
}
