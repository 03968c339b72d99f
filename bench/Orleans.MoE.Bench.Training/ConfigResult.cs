using Orleans.MoE.Model.Accounting;

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
