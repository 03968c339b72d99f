using System.Diagnostics;
using Orleans.MoE.Model.Accounting;
using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Bench.Training;

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
        if (o.Kernels is { } kernels && config.Layers.Ffn.Moe is { } moe)
            config = config with { Layers = config.Layers with { Ffn = config.Layers.Ffn with { Moe = moe with { Kernels = kernels } } } };
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
