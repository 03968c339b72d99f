using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Grains.Jobs;

/// <summary>A job owner's persisted state: the request, the current attempt and where it runs, failures, and the result.</summary>
[GenerateSerializer]
[Alias("moe.JobState")]
public sealed class JobState
{
    [Id(0)] public JobRequest? Request { get; set; }

    [Id(1)] public JobStatus Status { get; set; }

    /// <summary>The newest attempt (1 for the first); only its reports are accepted.</summary>
    [Id(2)] public int Attempt { get; set; }

    [Id(3)] public int Failures { get; set; }

    /// <summary>The slot of the running (or successful) attempt.</summary>
    [Id(4)] public SlotGrant? Slot { get; set; }

    /// <summary>Why the latest failed attempt failed.</summary>
    [Id(5)] public string? Error { get; set; }

    [Id(6)] public string? ResultJson { get; set; }

    /// <summary>Seconds the successful attempt's worker ran.</summary>
    [Id(7)] public double Seconds { get; set; }

    /// <summary>Why the job waits.</summary>
    [Id(8)] public string? Waiting { get; set; }

    /// <summary>A cancel was asked for; the running attempt is stopping.</summary>
    [Id(9)] public bool CancelRequested { get; set; }

    /// <summary>The running attempt's span: begun before its placement, emitted when the attempt ends.</summary>
    [Id(10)] public Telemetry.PersistedSpan? AttemptSpan { get; set; }

    /// <summary>Since when the next attempt waits for a slot (the queue wait it records when placed).</summary>
    [Id(11)] public DateTimeOffset? WaitingSince { get; set; }
}
