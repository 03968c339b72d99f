using System.Globalization;

namespace Orleans.MoE.Bench.Training;

/// <summary>Prints the table and the machine-readable <c>RESULT</c> lines.</summary>
internal sealed class TrainingReport(TextWriter w)
{
    /// <summary>The C# trainer must train at least as many tokens per second as PyTorch eager.</summary>
    public const double RatioTarget = 1.0;

    /// <summary>The first-step losses of the two sides must agree this closely (same model, weights and batch).</summary>
    public const double LossAgreement = 1e-4;

    private readonly List<string> _results = [];

    private static string F(double v, int decimals = 2) => v.ToString("F" + decimals, CultureInfo.InvariantCulture);

    public void Header(IEnumerable<(string Key, string Value)> environment)
    {
        w.WriteLine("Orleans.MoE training throughput: the C# trainer vs the same model in PyTorch eager");
        w.WriteLine();
        foreach (var (key, value) in environment) w.WriteLine($"  {key,-40} {value}");
        w.WriteLine();
    }

    public void Peak(PeakMatmul.Result peak, int threads)
    {
        w.WriteLine($"Peak: ({PeakMatmul.N}, {PeakMatmul.N}) fp32 matmul, {threads} thread(s), fastest of a few: " +
                    $"C# {F(peak.CsharpGflops, 1)} GFLOP/s, PyTorch {F(peak.PyTorchGflops, 1)} GFLOP/s; MFU is over the larger.");
        w.WriteLine();
    }

    public void Configs(IReadOnlyList<ConfigResult> results, PeakMatmul.Result peak, TrainingBenchOptions o)
    {
        w.WriteLine($"Training step = forward + loss, backward, AdamW step, zero_grad, balancing-bias update; batch {o.Batch} x {o.SequenceLength} tokens;");
        w.WriteLine($"median of {o.Repetitions} samples of {o.StepsPerSample} step(s) per side after {o.WarmupSteps} warm-up steps, sides alternating (wall time).");
        w.WriteLine();
        foreach (var r in results)
        {
            var p = r.Accounting.Parameters;
            w.WriteLine($"  {r.Name}: {Millions(p.Total)} parameters, {Millions(p.Active)} active per token, " +
                        $"{F(r.Accounting.TrainingFlopsPerToken / 1e6, 1)} MFLOP per token (training, context {r.Accounting.SequenceLength})");
            var agreement = Math.Abs(r.CsharpFirstLoss - r.PyTorchFirstLoss) / Math.Abs(r.PyTorchFirstLoss);
            w.WriteLine($"    first-step loss: C# {F(r.CsharpFirstLoss, 6)}, PyTorch {F(r.PyTorchFirstLoss, 6)} (relative difference {agreement:E1}" +
                        (agreement <= LossAgreement ? ", same model)" : $": ABOVE {LossAgreement:E0}, the sides do not train the same model)"));
        }
        w.WriteLine();
        w.WriteLine("  ms/step, min, max: wall time; cpu ms: CPU time of the side's whole process per step (median), less");
        w.WriteLine("  sensitive to other load than wall time. ratio: of the median tokens/s; paired: the median over");
        w.WriteLine("  repetitions of PyTorch's time / C#'s time in the same repetition (drifting load cancels out).");
        w.WriteLine();
        w.WriteLine($"  {"config",-22}{"side",-9}{"ms/step",9}{"min",8}{"max",8}{"cpu ms",8}{"tokens/s",10}{"GFLOP/s",9}{"MFU",7}");
        foreach (var r in results)
        {
            Row(r.Name, "C#", r.CsharpSeconds, r.CsharpMedian, r.CsharpCpuMedian, r.CsharpTokensPerSecond, r.CsharpFlops, peak.PeakFlops);
            Row("", "PyTorch", r.PyTorchSeconds, r.PyTorchMedian, r.PyTorchCpuMedian, r.PyTorchTokensPerSecond, r.PyTorchFlops, peak.PeakFlops);
            var ratio = r.CsharpTokensPerSecond / r.PyTorchTokensPerSecond;
            w.WriteLine($"  {"",-22}ratio C#/PyTorch {F(ratio, 3)} (target >= {F(RatioTarget, 1)}); median of paired ratios {F(r.PairedRatio, 3)}; " +
                        $"CPU time ratio {F(r.PyTorchCpuMedian / r.CsharpCpuMedian, 3)}");
            _results.Add($"RESULT name=train_tokens_per_s_{r.Name} csharp={F(r.CsharpTokensPerSecond, 0)} pytorch={F(r.PyTorchTokensPerSecond, 0)} " +
                         $"ratio={F(ratio, 3)} target=>={F(RatioTarget, 1)} met={(ratio >= RatioTarget ? "yes" : "no")} paired={F(r.PairedRatio, 3)}");
            _results.Add($"RESULT name=train_mfu_{r.Name} csharp={F(r.CsharpFlops / peak.PeakFlops, 3)} pytorch={F(r.PyTorchFlops / peak.PeakFlops, 3)} " +
                         $"peak_gflops={F(peak.PeakFlops / 1e9, 1)} flops_per_token={F(r.Accounting.TrainingFlopsPerToken, 0)}");
        }
        w.WriteLine();
    }

    private void Row(string name, string side, double[] samples, double median, double cpuMedian, double tokensPerSecond, double flops,
        double peak) =>
        w.WriteLine($"  {name,-22}{side,-9}{F(median * 1e3, 1),9}{F(samples.Min() * 1e3, 1),8}{F(samples.Max() * 1e3, 1),8}" +
                    $"{F(cpuMedian * 1e3, 1),8}{F(tokensPerSecond, 0),10}{F(flops / 1e9, 1),9}{F(flops / peak, 3),7}");

    /// <summary>Where a step's time goes, per side (only with --phases).</summary>
    public void Phases(IReadOnlyList<ConfigResult> results)
    {
        var timed = results.Where(r => r.Phases is not null).ToList();
        if (timed.Count == 0) return;
        w.WriteLine($"Phases of a step, ms (median of {timed[0].Phases!.Steps} steps per side, alternating), wall / process CPU:");
        w.WriteLine("  forward = embedding to loss; backward; optimizer = AdamW step + zero_grad; balancing = bias update + loss to host");
        w.WriteLine();
        w.WriteLine($"  {"config",-22}{"phase",-11}{"C# wall",9}{"PT wall",9}{"C# cpu",9}{"PT cpu",9}");
        foreach (var r in timed)
        {
            var p = r.Phases!;
            for (var i = 0; i < PhaseClock.Phases.Length; i++)
                w.WriteLine($"  {(i == 0 ? r.Name : ""),-22}{PhaseClock.Phases[i],-11}{F(p.CsharpWall[i] * 1e3, 1),9}{F(p.PyTorchWall[i] * 1e3, 1),9}" +
                            $"{F(p.CsharpCpu[i] * 1e3, 1),9}{F(p.PyTorchCpu[i] * 1e3, 1),9}");
        }
        w.WriteLine();
    }

    private static string Millions(long n) => F(n / 1e6, 2) + "M";

    public void Results()
    {
        foreach (var line in _results) w.WriteLine(line);
    }
}
