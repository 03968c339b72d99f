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

    /// <summary>The grain that owns the job and receives its reports.</summary>
    public string JobKey => JobKeys.Of(ExperimentId, Name);
}

public static class JobKeys
{
    /// <summary>The key of a job-owning grain: experiment id and job name.</summary>
    public static string Of(string experimentId, string name) => $"{experimentId}/{name}";
}
