namespace Orleans.MoE.Bench;

/// <summary>Thread counts (applied to both sides) and repetition counts.</summary>
internal sealed record BenchSettings(
    int SmallThreads,
    int MatmulThreads,
    int SmallIters,
    int SmallReps,
    int MatmulIters,
    int MatmulReps,
    bool Profile)
{
    /// <summary>
    /// Small ops run on one thread: a 16-element op never parallelises, and one thread keeps
    /// OpenMP's scheduling out of the per-call figure. Matmul uses every core.
    /// </summary>
    public static BenchSettings Default => new(
        SmallThreads: 1,
        MatmulThreads: Environment.ProcessorCount,
        SmallIters: 2_000,
        SmallReps: 41,
        MatmulIters: 1,
        MatmulReps: 21,
        Profile: true);

    public static BenchSettings Parse(string[] args)
    {
        var s = Default;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length
                ? args[++i]
                : throw new ArgumentException($"option {args[i]} needs a value");
            int Positive() =>
                int.TryParse(Value(), out var v) && v > 0
                    ? v
                    : throw new ArgumentException($"option {args[i - 1]} needs a positive integer, got '{args[i]}'");
            s = args[i] switch
            {
                "--quick" => s with { SmallReps = 11, MatmulReps = 7 },
                "--matmul-threads" => s with { MatmulThreads = Positive() },
                "--small-threads" => s with { SmallThreads = Positive() },
                "--reps" => s with { SmallReps = Positive() },
                "--no-profile" => s with { Profile = false },
                _ => throw new ArgumentException(
                    $"unknown option '{args[i]}'; known: --quick, --small-threads N, --matmul-threads N, --reps N, --no-profile"),
            };
        }
        return s;
    }
}
