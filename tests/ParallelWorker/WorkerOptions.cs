using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.ParallelWorker;

/// <summary>What a worker runs.</summary>
public enum WorkerMode
{
    /// <summary>The whole model in one process, no process group: the reference.</summary>
    Single,
    /// <summary>Multi-Head LatentMoE, head parallel.</summary>
    Head,
    /// <summary>MoE, expert parallel.</summary>
    Expert,
    /// <summary>MoE, every rank holds the whole model.</summary>
    Data,
    /// <summary>The imbalance experiment: Zipf-skewed routings through the expert dispatch and the head exchange.</summary>
    Zipf,
}

/// <summary>Which tiny model a training run builds.</summary>
public enum WorkerModel
{
    MultiHeadLatentMoe,
    Moe,
}

/// <summary>
/// The command line of one rank: <c>--mode single|head|expert|data|zipf --world-size P --rank r
/// --rendezvous host:port --model mhlmoe|moe --top-k k[,k...] --experts N_e --steps S --tokens n --skews 0,1,2
/// --out DIR</c>. Head parallel implies the Multi-Head LatentMoE model, expert and data parallel the MoE.
/// </summary>
public sealed record WorkerOptions
{
    public WorkerMode Mode { get; init; }

    public int WorldSize { get; init; } = 1;

    public int Rank { get; init; }

    public RendezvousAddress? Rendezvous { get; init; }

    public WorkerModel Model { get; init; } = WorkerModel.MultiHeadLatentMoe;

    /// <summary>
    /// The values of k (experts per token, per sub-token for Multi-Head LatentMoE) to train with, one
    /// after another in the same process group; each writes to its own folder k{k} of the output.
    /// </summary>
    public int[] TopKs { get; init; } = [4];

    /// <summary>N_e (per head for Multi-Head LatentMoE).</summary>
    public int Experts { get; init; } = 16;

    public int Steps { get; init; } = 3;

    /// <summary>Zipf mode: tokens per rank.</summary>
    public int Tokens { get; init; } = 2048;

    /// <summary>Zipf mode: the skews to run, in order.</summary>
    public double[] Skews { get; init; } = [0, 1, 2];

    public string Output { get; init; } = ".";

    public static WorkerOptions Parse(string[] args)
    {
        var options = new WorkerOptions();
        var modelGiven = false;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value");
            var value = args[++i];
            options = name switch
            {
                "--mode" => options with { Mode = Enum.Parse<WorkerMode>(value, ignoreCase: true) },
                "--world-size" => options with { WorldSize = int.Parse(value) },
                "--rank" => options with { Rank = int.Parse(value) },
                "--rendezvous" => options with { Rendezvous = RendezvousAddress.Parse(value) },
                "--model" => options with { Model = value == "moe" ? WorkerModel.Moe : value == "mhlmoe" ? WorkerModel.MultiHeadLatentMoe : throw new ArgumentException($"--model {value}: use mhlmoe or moe") },
                "--top-k" => options with { TopKs = value.Split(',').Select(int.Parse).ToArray() },
                "--experts" => options with { Experts = int.Parse(value) },
                "--steps" => options with { Steps = int.Parse(value) },
                "--tokens" => options with { Tokens = int.Parse(value) },
                "--skews" => options with { Skews = value.Split(',').Select(double.Parse).ToArray() },
                "--out" => options with { Output = value },
                _ => throw new ArgumentException($"unknown option {name}"),
            };
            modelGiven |= name == "--model";
        }
        if (options.Mode == WorkerMode.Head) options = options with { Model = WorkerModel.MultiHeadLatentMoe };
        if (options.Mode is WorkerMode.Expert or WorkerMode.Data) options = options with { Model = WorkerModel.Moe };
        if (options.Mode == WorkerMode.Single && !modelGiven) throw new ArgumentException("--mode single needs --model mhlmoe|moe");
        if (options.Mode != WorkerMode.Single && options.Rendezvous is null) throw new ArgumentException($"--mode {options.Mode} needs --rendezvous host:port");
        return options;
    }
}
