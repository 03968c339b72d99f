using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Grains.Jobs;

/// <summary>What a silo's supervisor needs to start one attempt of a job in a worker process.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.JobLaunch")]
public sealed record JobLaunch
{
    [Id(0)] public required JobRequest Request { get; init; }

    [Id(1)] public required int Attempt { get; init; }

    [Id(2)] public required SlotGrant Slot { get; init; }

    /// <summary>The grain that receives the reports.</summary>
    [Id(3)] public required IJobGrain Owner { get; init; }

    /// <summary>W3C trace context of the job's span, for the worker's own spans.</summary>
    [Id(4)] public string? TraceParent { get; init; }
}

/// <summary>A worker process a supervisor runs.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.RunningJob")]
public sealed record RunningJob([property: Id(0)] string JobKey, [property: Id(1)] int Attempt, [property: Id(2)] int ProcessId, [property: Id(3)] DateTimeOffset Started);
