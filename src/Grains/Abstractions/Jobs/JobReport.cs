namespace Orleans.MoE.Grains.Jobs;

/// <summary>What a silo's job supervisor says about a worker process.</summary>
public enum JobReportKind
{
    Started,
    Progress,
    Succeeded,

    /// <summary>The process failed: non-zero exit, native crash, killed, or no progress for the stall timeout.</summary>
    Failed,

    /// <summary>Stopped on request (cancel, or its silo shutting down) after checkpointing; not a failure.</summary>
    Interrupted,
}

/// <summary>A report from the supervisor of the silo that runs an attempt of a job.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.JobReport")]
public sealed record JobReport
{
    [Id(0)] public required string JobKey { get; init; }

    /// <summary>The attempt the report is about; reports of any other attempt are refused.</summary>
    [Id(1)] public required int Attempt { get; init; }

    [Id(2)] public required JobReportKind Kind { get; init; }

    [Id(3)] public long Step { get; init; }

    [Id(4)] public long TotalSteps { get; init; }

    [Id(5)] public double? Loss { get; init; }

    [Id(6)] public double? TokensPerSecond { get; init; }

    /// <summary>The phase's measurements (JSON) when it succeeded.</summary>
    [Id(7)] public string? ResultJson { get; init; }

    [Id(8)] public int? ExitCode { get; init; }

    /// <summary>Why it failed: the worker's error, or the last lines it wrote to stderr.</summary>
    [Id(9)] public string? Error { get; init; }

    [Id(10)] public string Silo { get; init; } = "";

    /// <summary>Seconds the worker process ran.</summary>
    [Id(11)] public double Seconds { get; init; }

    /// <summary>A failure that another attempt cannot mend (bad input: the worker exited with code 2); the job fails at once.</summary>
    [Id(12)] public bool Permanent { get; init; }
}
