namespace Orleans.MoE.Torch.Distributed;

/// <summary>
/// A collective that failed or timed out on this rank. <see cref="FailedRanks"/> are the ranks that
/// did not report back to the rendezvous store afterwards (presumed dead); when the store itself is
/// gone, that is rank 0, which serves it.
/// </summary>
public sealed class CollectiveException : Exception
{
    public CollectiveException(string operation, int rank, IReadOnlyList<int> failedRanks, string detail, Exception inner)
        : base(Describe(operation, rank, failedRanks, detail), inner)
    {
        Operation = operation;
        Rank = rank;
        FailedRanks = failedRanks;
    }

    /// <summary>e.g. "all_to_all" (with the caller's label, when it gave one).</summary>
    public string Operation { get; }

    /// <summary>The rank that raised this.</summary>
    public int Rank { get; }

    public IReadOnlyList<int> FailedRanks { get; }

    private static string Describe(string operation, int rank, IReadOnlyList<int> failedRanks, string detail)
    {
        var who = failedRanks.Count switch
        {
            0 => "every rank is still reachable, so a peer was too slow or the collectives got out of step",
            1 => $"rank {failedRanks[0]} failed",
            _ => $"ranks {string.Join(", ", failedRanks)} failed",
        };
        return $"{operation} failed on rank {rank}: {who} ({detail})";
    }
}
