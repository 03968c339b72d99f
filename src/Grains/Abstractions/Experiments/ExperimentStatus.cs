using Orleans.MoE.Grains.Jobs;

namespace Orleans.MoE.Grains.Experiments;

/// <summary>An experiment as its coordinator sees it now: phase, a one-line message, and every job.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.ExperimentStatus")]
public sealed record ExperimentStatus
{
    [Id(0)] public required string ExperimentId { get; init; }

    [Id(1)] public string Name { get; init; } = "";

    [Id(2)] public ExperimentPhase Phase { get; init; }

    /// <summary>What is happening or why it stopped ("waiting for a silo of class high-memory with 1 free device").</summary>
    [Id(3)] public string Message { get; init; } = "";

    [Id(4)] public IReadOnlyList<JobView> Jobs { get; init; } = [];

    /// <summary>The HTML report, relative to the artifact store, once written.</summary>
    [Id(5)] public string? Report { get; init; }

    [Id(6)] public string Directory { get; init; } = "";

    [Id(7)] public DateTimeOffset? StartedAt { get; init; }

    [Id(8)] public DateTimeOffset? EndedAt { get; init; }

    /// <summary>The sequence number of the newest event (see <see cref="IExperimentCoordinatorGrain.GetEventsAsync"/>).</summary>
    [Id(9)] public long LastEvent { get; init; }

    /// <summary>Dollars spent so far: each finished or running job's time on its silo's declared price.</summary>
    [Id(10)] public double Dollars { get; init; }
}

/// <summary>Something that happened to an experiment, numbered in order.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.ExperimentEvent")]
public sealed record ExperimentEvent([property: Id(0)] long Sequence, [property: Id(1)] DateTimeOffset At, [property: Id(2)] string Text);
