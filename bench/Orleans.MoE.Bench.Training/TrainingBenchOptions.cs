using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Bench.Training;

/// <summary>What the benchmark runs: the model files, the batch, the threads (both sides) and the repetitions.</summary>
internal sealed record TrainingBenchOptions(
    IReadOnlyList<string> Configs,
    int Batch,
    int SequenceLength,
    int Threads,
    int WarmupSteps,
    int Repetitions,
    int StepsPerSample,
    int PhaseSteps,
    string Python,
    RoutedKernels? Kernels = null)
{
    /// <summary>The two model files under configs/ (relative to this project's folder).</summary>
    public static readonly string[] DefaultConfigs = ["moe_small.json", "mh_latent_moe_small.json"];

    /// <summary>
    /// 4 x 256 tokens per step; all cores; 3 warm-up steps per side (the first allocates the optimizer
    /// state); 11 samples of one step per side, alternating. About a minute on 2 idle cores.
    /// </summary>
    public static TrainingBenchOptions Default => new(
        DefaultConfigs, Batch: 4, SequenceLength: 256, Threads: Environment.ProcessorCount,
        WarmupSteps: 3, Repetitions: 11, StepsPerSample: 1, PhaseSteps: 0, Python: "/usr/bin/python3");

    public static TrainingBenchOptions Parse(string[] args)
    {
        var o = Default;
        var configs = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {args[i]} needs a value");
            int Positive() =>
                int.TryParse(Value(), out var v) && v > 0
                    ? v
                    : throw new ArgumentException($"option {args[i - 1]} needs a positive integer, got '{args[i]}'");
            switch (args[i])
            {
                case "--config": configs.Add(Value()); break;
                case "--batch": o = o with { Batch = Positive() }; break;
                case "--seq": o = o with { SequenceLength = Positive() }; break;
                case "--threads": o = o with { Threads = Positive() }; break;
                case "--warmup": o = o with { WarmupSteps = Positive() }; break;
                case "--reps": o = o with { Repetitions = Positive() }; break;
                case "--steps-per-sample": o = o with { StepsPerSample = Positive() }; break;
                case "--python": o = o with { Python = Value() }; break;
                case "--phases": o = o with { PhaseSteps = Positive() }; break;
                case "--quick": o = o with { WarmupSteps = 2, Repetitions = 3 }; break;
                case "--kernels":
                    o = o with
                    {
                        Kernels = Value() switch
                        {
                            "fused" => RoutedKernels.Fused,
                            "reference" => RoutedKernels.Reference,
                            var other => throw new ArgumentException($"option --kernels takes fused or reference, got '{other}'"),
                        },
                    };
                    break;
                default:
                    throw new ArgumentException(
                        $"unknown option '{args[i]}'; known: --config FILE (repeatable), --batch N, --seq N, --threads N, " +
                        "--warmup N, --reps N, --steps-per-sample N, --phases N, --python PATH, --quick, --kernels fused|reference " +
                        "(the routed layers' kernels, overriding the model files'); `routed` as the first argument runs the routed-layer benchmark");
            }
        }
        return configs.Count > 0 ? o with { Configs = configs } : o;
    }
}
