namespace Orleans.MoE.Grains.Jobs;

/// <summary>
/// One job of an experiment as its coordinator asks for it: which phase of which experiment, on what
/// class of device, with what failure budget. The job's inputs and outputs are files of the
/// experiment directory; only paths travel.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("moe.JobRequest")]
public sealed record JobRequest
{
    [Id(0)] public required string ExperimentId { get; init; }

    /// <summary>The job's name within the experiment (the phase, or phase and rank).</summary>
    [Id(1)] public required string Name { get; init; }

    /// <summary>The phase the worker runs.</summary>
    [Id(2)] public required string Phase { get; init; }

    /// <summary>The experiment directory, relative to the artifact store.</summary>
    [Id(3)] public required string Directory { get; init; }

    [Id(4)] public required string DeviceClass { get; init; }

    /// <summary>Failed attempts allowed before the job fails for good (Ray Train's max_failures).</summary>
    [Id(5)] public int MaxFailures { get; init; } = 3;

    /// <summary>libtorch threads; null gives the job its slot's share of the silo's cores.</summary>
    [Id(6)] public int? Threads { get; init; }

    /// <summary>Extra worker arguments (a rank, a rendezvous address), by name.</summary>
    [Id(7)] public IReadOnlyDictionary<string, string> Arguments { get; init; } = new Dictionary<string, string>();

    /// <summary>A worker that reports no progress for this long is stopped and counted as failed; null waits forever.</summary>
    [Id(8)] public TimeSpan? StallTimeout { get; init; }

    /// <summary>Ranks of one group (gang-placed, all or none, on distinct silos unless <see cref="SharedSilos"/>); 1 for a job of its own.</summary>
    [Id(9)] public int Ranks { get; init; } = 1;

    /// <summary>For a group: the parallel mode of its ranks (head, expert, data, auto) and their collective timeout.</summary>
    [Id(10)] public string Parallel { get; init; } = "auto";

    [Id(11)] public double CollectiveTimeoutSeconds { get; init; } = 120;

    /// <summary>For a group: after a failure, restart at the largest smaller world size that fits and divides <see cref="RankDivisor"/>.</summary>
    [Id(12)] public bool Elastic { get; init; }

    /// <summary>For a group: what every world size must divide (the model's heads or experts); null = any.</summary>
    [Id(13)] public int? RankDivisor { get; init; }

    /// <summary>The slot a rank of a group runs on, reserved by its group; null = the job reserves its own.</summary>
    [Id(14)] public Placement.SlotGrant? Slot { get; init; }

    /// <summary>The grain told when the job ends (its id as text); null = the experiment's coordinator.</summary>
    [Id(15)] public string? Parent { get; init; }

    /// <summary>W3C traceparent of the span the job's attempts sit under (its phase's); null = not traced.</summary>
    [Id(16)] public string? TraceParent { get; init; }

    /// <summary>For a group: its ranks may share a silo (data shards) instead of each taking a distinct one.</summary>
    [Id(17)] public bool SharedSilos { get; init; }

    /// <summary>The key of the grain that owns the job.</summary>
    public string JobKey => JobKeys.Of(ExperimentId, Name);
}

public static class JobKeys
{
    /// <summary>The key of a job-owning grain: experiment id and job name.</summary>
    public static string Of(string experimentId, string name) => $"{experimentId}/{name}";
}
