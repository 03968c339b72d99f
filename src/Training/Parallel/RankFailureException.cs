using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Training.Parallel;

/// <summary>A multi-process run stopped because a rank failed or a collective timed out during <see cref="Step"/>.</summary>
public sealed class RankFailureException(long step, CollectiveException inner)
    : Exception($"training stopped at step {step}: {inner.Message}", inner)
{
    public long Step { get; } = step;

    public IReadOnlyList<int> FailedRanks => ((CollectiveException)InnerException!).FailedRanks;
}
