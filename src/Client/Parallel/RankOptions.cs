using System.CommandLine;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Torch.Native;
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
    public static RankSettings? Resolve(string mode, int worldSize, int rank, string? rendezvous, double timeoutSeconds)
    {
        if (worldSize < 1) throw new ArgumentException($"--world-size must be at least 1, got {worldSize}");
        if (worldSize == 1) return null;
        if (rank < 0 || rank >= worldSize) throw new ArgumentException($"--rank must be in 0..{worldSize - 1}, got {rank}");
        if (rendezvous is null) throw new ArgumentException("--rendezvous host:port is required with --world-size > 1 (rank 0 serves it; every rank gives the same address)");
        if (timeoutSeconds <= 0) throw new ArgumentException($"--timeout must be positive, got {timeoutSeconds}");
        return new RankSettings(mode, worldSize, rank, RendezvousAddress.Parse(rendezvous), TimeSpan.FromSeconds(timeoutSeconds));
    }

    /// <summary>The mode for a model: the named one, or under auto the one its FFN kind calls for.</summary>
    public static ParallelMode ModeFor(string mode, ModelConfig model) => mode switch
    {
        "head" => ParallelMode.Head,
        "expert" => ParallelMode.Expert,
        "data" => ParallelMode.Data,
        "auto" => model.Layers.Ffn.Kind switch
        {
            FfnKind.MultiHeadLatentMoe => ParallelMode.Head,
            FfnKind.Moe or FfnKind.LatentMoe => ParallelMode.Expert,
            _ => ParallelMode.Data,
        },
        _ => throw new ArgumentException($"--parallel must be head, expert, data or auto, got '{mode}'"),
    };
}

/// <summary>One rank's place: mode name, world size, rank, rendezvous address and collective timeout.</summary>
internal sealed record RankSettings(string Mode, int WorldSize, int Rank, RendezvousAddress Rendezvous, TimeSpan Timeout)
{
    /// <summary>Joins the group (waits for every rank) and returns this rank's context.</summary>
    public ParallelContext Join(ModelConfig model)
    {
        var mode = RankOptions.ModeFor(Mode, model);
        ProcessGroup group;
        try
        {
            group = ProcessGroup.Join(Rendezvous, Rank, WorldSize, Timeout);
        }
        catch (TorchException e)
        {
            throw new IOException(
                $"rank {Rank} of {WorldSize} could not join the group at {Rendezvous} within {Timeout.TotalSeconds:F0} s ({e.Message}); " +
                "check that every rank gives the same --rendezvous and --world-size and that rank 0 is running", e);
        }
        return new ParallelContext(group, mode);
    }
}
