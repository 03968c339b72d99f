using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Grains.Jobs;

/// <summary>A rank group's persisted state: the request, the current attempt's slots and world size, how each rank ended.</summary>
[GenerateSerializer]
[Alias("moe.RankGroupState")]
public sealed class RankGroupState
{
    [Id(0)] public JobRequest? Request { get; set; }

    [Id(1)] public JobStatus Status { get; set; }

    /// <summary>The group's attempt; its ranks are new grains per attempt, so a rank of an older one cannot be mistaken for a current one.</summary>
    [Id(2)] public int Attempt { get; set; }

    [Id(3)] public int Failures { get; set; }

    [Id(4)] public List<SlotGrant> Slots { get; set; } = [];

    /// <summary>How each rank of the current attempt ended, by rank.</summary>
    [Id(5)] public Dictionary<int, JobStatus> Ended { get; set; } = [];

    [Id(6)] public string? Error { get; set; }

    /// <summary>Rank 0's measurements.</summary>
    [Id(7)] public string? ResultJson { get; set; }

    [Id(8)] public double Seconds { get; set; }

    [Id(9)] public string? Waiting { get; set; }

    [Id(10)] public bool CancelRequested { get; set; }

    /// <summary>A rank failed: the others are being stopped before the group restarts.</summary>
    [Id(11)] public bool Stopping { get; set; }

    /// <summary>A silo of the current attempt left the cluster (a failure, even if its rank only shows as stopped).</summary>
    [Id(12)] public bool SiloLost { get; set; }

    public int WorldSize => Slots.Count;
}
