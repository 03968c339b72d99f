using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Training.Parallel;

/// <summary>
/// One process's place in a multi-process run: the mode's name (head, expert, data or auto), world
/// size, rank, rendezvous address and collective timeout. <see cref="Join"/> waits for every rank.
/// </summary>
public sealed record ParallelRank(string Mode, int WorldSize, int Rank, RendezvousAddress Rendezvous, TimeSpan Timeout)
{
    public static readonly IReadOnlyList<string> Modes = ["head", "expert", "data", "auto"];

    /// <summary>
    /// Joins the group and returns this rank's context: gloo when the rank trains on the CPU, NCCL on
    /// a GPU (see <see cref="ProcessGroup.BackendFor"/>).
    /// </summary>
    public ParallelContext Join(ModelConfig model, Device? device = null)
    {
        var on = device ?? Device.Cpu;
        ProcessGroup.BackendFor(on);   // a missing GPU or NCCL is a configuration error, not a failure to join
        var mode = ModeFor(Mode, model);
        ProcessGroup group;
        try
        {
            group = ProcessGroup.Join(Rendezvous, Rank, WorldSize, Timeout, on);
        }
        catch (TorchException e)
        {
            throw new IOException(
                $"rank {Rank} of {WorldSize} could not join the group at {Rendezvous} within {Timeout.TotalSeconds:F0} s ({e.Message}); " +
                "check that every rank gives the same rendezvous address and world size and that rank 0 is running", e);
        }
        return new ParallelContext(group, mode);
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
        _ => throw new ArgumentException($"the parallel mode must be {string.Join(", ", Modes)}, got '{mode}'"),
    };

    /// <summary>
    /// The number the world size must divide under a mode: the heads (head parallel), the experts
    /// (expert parallel), or null when any world size fits the model (data parallel).
    /// </summary>
    public static int? Divisor(ParallelMode mode, ModelConfig model) => mode switch
    {
        ParallelMode.Head => model.Layers.Ffn.Heads?.NumHeads,
        ParallelMode.Expert => model.Layers.Ffn.Moe?.NumExperts,
        _ => null,
    };
}
