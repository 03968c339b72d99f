namespace Orleans.MoE.Grains.Jobs;

/// <summary>The names of the <see cref="JobRequest.Arguments"/> a rank of a group gets.</summary>
public static class WorkerArguments
{
    public const string Rank = "rank";
    public const string WorldSize = "world_size";
    public const string Rendezvous = "rendezvous";
    public const string Parallel = "parallel";
    public const string TimeoutSeconds = "timeout_seconds";

    /// <summary>The group's attempt (a rank's own is always 1).</summary>
    public const string GroupAttempt = "group_attempt";
}
