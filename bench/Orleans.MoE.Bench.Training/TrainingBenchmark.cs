using System.Diagnostics;
using Orleans.MoE.Model.Accounting;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Bench.Training;

/// <summary>The figures of one model configuration; seconds are per training step.</summary>
internal sealed record ConfigResult(
    string Name,
    ModelAccounting Accounting,
    long Parameters,
    long TokensPerStep,
    double CsharpFirstLoss,
    double PyTorchFirstLoss,
    double[] CsharpSeconds,
    double[] PyTorchSeconds,
    double[] CsharpCpuSeconds,
    double[] PyTorchCpuSeconds,
    PhaseBreakdown? Phases)
{
    public double CsharpMedian => Median(CsharpSeconds);

    public double PyTorchMedian => Median(PyTorchSeconds);

    public double CsharpTokensPerSecond => TokensPerStep / CsharpMedian;

    public double PyTorchTokensPerSecond => TokensPerStep / PyTorchMedian;

    /// <summary>Achieved training FLOP/s (the accounting's FLOPs per token x tokens/s).</summary>
    public double CsharpFlops => Accounting.TrainingFlopsPerToken * CsharpTokensPerSecond;

    public double PyTorchFlops => Accounting.TrainingFlopsPerToken * PyTorchTokensPerSecond;

    /// <summary>
    /// The median over repetitions of PyTorch's step time over C#'s in the same repetition: the two samples
    /// of a pair ran back to back, so load that drifts over the run cancels out of each ratio.
    /// </summary>
    public double PairedRatio => Median(PyTorchSeconds.Zip(CsharpSeconds, (p, c) => p / c).ToArray());

    public double CsharpCpuMedian => Median(CsharpCpuSeconds);

    public double PyTorchCpuMedian => Median(PyTorchCpuSeconds);

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }
}

/// <summary>Median seconds per step and phase (<see cref="PhaseClock.Phases"/>), wall and process CPU, per side.</summary>
internal sealed record PhaseBreakdown(int Steps, double[] CsharpWall, double[] CsharpCpu, double[] PyTorchWall, double[] PyTorchCpu);

/// <summary>
/// Trains the same model on both sides from the same weights and batch: warm-up steps on each side, then
/// repetitions that alternate between the sides (the order flips every repetition) so both see the same
/// machine load, each timing <c>StepsPerSample</c> steps in wall time after a short pause.
/// </summary>
internal static class TrainingBenchmark
{
    /// <summary>
    /// Before each timed sample: OpenBLAS's worker threads keep spinning for a while after a call (2^28
    /// cycles, ~0.12 s at 2.25 GHz), and on a small machine the side that just ran would otherwise take
    /// cores from the side that runs next.
    /// </summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(0.2);

    public static ConfigResult Run(string configPath, TrainingBenchOptions o, PyTorchEagerProcess pytorch, TextWriter log)
    {
        var name = Path.GetFileNameWithoutExtension(configPath);
        var config = ModelConfigLoader.LoadFile(configPath);
        if (config.MaxSeqLen < o.SequenceLength)
            throw new ArgumentException($"{configPath}: max_seq_len is {config.MaxSeqLen}, below the benchmark's sequence length {o.SequenceLength}; " +
                                        "raise max_seq_len or pass a smaller --seq");
        var accounting = ModelAccounting.Of(config, o.SequenceLength);

        using var csharp = new CsharpTrainer(config, o.Batch, o.SequenceLength);
        var modelFile = Path.Combine(Path.GetTempPath(), $"moe-train-bench-{Environment.ProcessId}-{name}.safetensors");
        long pytorchParameters;
        try
        {
            csharp.SaveForPyTorch(modelFile);
            pytorchParameters = pytorch.Load(modelFile);
        }
        finally
        {
            File.Delete(modelFile);
        }
        if (pytorchParameters != csharp.ParameterCount)
            throw new InvalidOperationException($"{name}: the PyTorch side has {pytorchParameters} parameters, the C# side {csharp.ParameterCount}");

        log.WriteLine($"{name}: warming up ({o.WarmupSteps} steps per side)");
        var csharpFirstLoss = csharp.Step();
        for (var i = 1; i < o.WarmupSteps; i++) csharp.Step();
        var pytorchFirstLoss = pytorch.Steps(o.WarmupSteps).FirstLoss;

        var csharpSeconds = new double[o.Repetitions];
        var pytorchSeconds = new double[o.Repetitions];
        var csharpCpu = new double[o.Repetitions];
        var pytorchCpu = new double[o.Repetitions];
        for (var r = 0; r < o.Repetitions; r++)
        {
            for (var k = 0; k < 2; k++)
            {
                Thread.Sleep(Settle);
                if ((r + k) % 2 == 0)
                {
                    var (start, cpu) = (Stopwatch.GetTimestamp(), PhaseClock.ProcessCpuSeconds());
                    for (var i = 0; i < o.StepsPerSample; i++) csharp.Step();
                    csharpSeconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds / o.StepsPerSample;
                    csharpCpu[r] = (PhaseClock.ProcessCpuSeconds() - cpu) / o.StepsPerSample;
                }
                else
                {
                    var t = pytorch.Steps(o.StepsPerSample);
                    pytorchSeconds[r] = t.Seconds / o.StepsPerSample;
                    pytorchCpu[r] = t.CpuSeconds / o.StepsPerSample;
                }
            }
        }
        var phases = o.PhaseSteps > 0 ? MeasurePhases(csharp, pytorch, o.PhaseSteps) : null;
        return new ConfigResult(name, accounting, csharp.ParameterCount, csharp.TokensPerStep, csharpFirstLoss, pytorchFirstLoss,
            csharpSeconds, pytorchSeconds, csharpCpu, pytorchCpu, phases);
    }

    /// <summary>Steps timed by phase, one per side in turn; the median per phase.</summary>
    private static PhaseBreakdown MeasurePhases(CsharpTrainer csharp, PyTorchEagerProcess pytorch, int steps)
    {
        var count = PhaseClock.Phases.Length;
        var samples = new double[4][][];   // C# wall, C# cpu, PyTorch wall, PyTorch cpu; [phase][step]
        for (var k = 0; k < samples.Length; k++) samples[k] = Enumerable.Range(0, count).Select(_ => new double[steps]).ToArray();
        for (var s = 0; s < steps; s++)
        {
            Thread.Sleep(Settle);
            var clock = new PhaseClock();
            csharp.Step(clock);
            Thread.Sleep(Settle);
            var (wall, cpu) = pytorch.Phases(1);
            for (var i = 0; i < count; i++)
            {
                samples[0][i][s] = clock.WallSeconds[i];
                samples[1][i][s] = clock.CpuSeconds[i];
                samples[2][i][s] = wall[i];
                samples[3][i][s] = cpu[i];
            }
        }
        double[] Medians(double[][] perPhase) => perPhase.Select(ConfigResult.Median).ToArray();
        return new PhaseBreakdown(steps, Medians(samples[0]), Medians(samples[1]), Medians(samples[2]), Medians(samples[3]));
    }
}

/// <summary>
/// The peak MFU is measured against: a (2048, 2048) x (2048, 2048) fp32 matmul at the benchmark's thread
/// count, the fastest of a few on each side; the peak is the faster side's figure.
/// </summary>
internal static class PeakMatmul
{
    public const int N = 2048;

    public sealed record Result(double CsharpGflops, double PyTorchGflops)
    {
        public double PeakFlops => 1e9 * Math.Max(CsharpGflops, PyTorchGflops);
    }

    public static Result Measure(PyTorchEagerProcess pytorch, int reps = 5)
    {
        using var scope = DisposeScope.Begin();
        var a = Tensor.Randn([N, N]);   // (N, N) fp32
        var b = Tensor.Randn([N, N]);   // (N, N) fp32
        var best = double.MaxValue;
        for (var i = 0; i < reps; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using var product = a.MatMul(b);   // libtorch on the CPU returns when the product is done
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        Thread.Sleep(TrainingBenchmark.Settle);
        var pytorchBest = pytorch.MatmulSeconds(N, reps);
        return new Result(Gflops(best), Gflops(pytorchBest));
    }

    private static double Gflops(double seconds) => 2.0 * N * N * (double)N / seconds / 1e9;
}
