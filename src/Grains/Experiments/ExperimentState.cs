using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Grains.Experiments;

/// <summary>The coordinator's persisted state: the plan, the state machine's phase, every job asked for, and recent events.</summary>
[GenerateSerializer]
[Alias("moe.ExperimentState")]
public sealed class ExperimentState
{
    [Id(0)] public ExperimentPlan? Plan { get; set; }

    [Id(1)] public ExperimentPhase Phase { get; set; }

    [Id(2)] public Dictionary<string, JobRecord> Jobs { get; set; } = [];

    [Id(3)] public string Message { get; set; } = "";

    [Id(4)] public DateTimeOffset? StartedAt { get; set; }

    [Id(5)] public DateTimeOffset? EndedAt { get; set; }

    [Id(6)] public List<ExperimentEvent> Events { get; set; } = [];

    [Id(7)] public long LastEvent { get; set; }

    /// <summary>The HTML report, relative to the artifact store.</summary>
    [Id(8)] public string? Report { get; set; }

    /// <summary>The experiment's root span: begun with the plan, emitted when the experiment ends (by whichever activation sees it).</summary>
    [Id(9)] public Telemetry.PersistedSpan? Trace { get; set; }

    /// <summary>One span per phase (the stage of the job graph), begun with its first job, emitted when all its jobs ended.</summary>
    [Id(10)] public Dictionary<ExperimentPhase, Telemetry.PersistedSpan> PhaseSpans { get; set; } = [];
}

/// <summary>A job the coordinator has asked for, and how it ended.</summary>
[GenerateSerializer]
[Alias("moe.JobRecord")]
public sealed class JobRecord
{
    [Id(0)] public JobStatus Status { get; set; }

    [Id(1)] public int Attempt { get; set; }

    [Id(2)] public int Failures { get; set; }

    [Id(3)] public string? Silo { get; set; }

    [Id(4)] public DevicePool? Pool { get; set; }

    [Id(5)] public double Seconds { get; set; }

    [Id(6)] public string? Error { get; set; }

    /// <summary>Finished before this coordinator existed (read back from the experiment directory's state.json).</summary>
    [Id(7)] public bool Adopted { get; set; }
}
