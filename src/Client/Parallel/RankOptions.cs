using System.CommandLine;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Client.Parallel;

/// <summary>
/// The options that make `moe train` one rank of a multi-process run (--world-size, --rank,
/// --rendezvous), or a launcher of P ranks on this machine (--local-ranks), and the mode they share.
/// </summary>
internal sealed class RankOptions
{
    public Option<string> Mode { get; } = new("--parallel")
    {
        Description = "How ranks share the model: head (Multi-Head LatentMoE), expert (MoE, LatentMoE), data, or auto (by the model's FFN kind).",
        DefaultValueFactory = _ => "auto",
    };

    public Option<int> WorldSize { get; } = new("--world-size") { Description = "Number of ranks of a multi-process run (1: a single process).", DefaultValueFactory = _ => 1 };

    public Option<int> Rank { get; } = new("--rank") { Description = "This process's rank, 0 .. world size - 1.", DefaultValueFactory = _ => 0 };

    public Option<string?> Rendezvous { get; } = new("--rendezvous") { Description = "host:port where rank 0 serves the rendezvous store (e.g. 10.0.0.5:29500)." };

    public Option<int> LocalRanks { get; } = new("--local-ranks") { Description = "Start this many ranks as processes on this machine and forward their output." };

    public Option<double> TimeoutSeconds { get; } = new("--timeout")
    {
        Description = "Seconds a rank waits at the rendezvous and in each collective before the run stops naming the missing rank.",
        DefaultValueFactory = _ => 300,
    };

    public IEnumerable<Option> All => [Mode, WorldSize, Rank, Rendezvous, LocalRanks, TimeoutSeconds];

    /// <summary>The rank settings of one process, checked: null for a single process.</summary>
    public static ParallelRank? Resolve(string mode, int worldSize, int rank, string? rendezvous, double timeoutSeconds)
    {
        if (worldSize < 1) throw new ArgumentException($"--world-size must be at least 1, got {worldSize}");
        if (worldSize == 1) return null;
        if (rank < 0 || rank >= worldSize) throw new ArgumentException($"--rank must be in 0..{worldSize - 1}, got {rank}");
        if (rendezvous is null) throw new ArgumentException("--rendezvous host:port is required with --world-size > 1 (rank 0 serves it; every rank gives the same address)");
        if (timeoutSeconds <= 0) throw new ArgumentException($"--timeout must be positive, got {timeoutSeconds}");
        return new ParallelRank(mode, worldSize, rank, RendezvousAddress.Parse(rendezvous), TimeSpan.FromSeconds(timeoutSeconds));
    }
}
