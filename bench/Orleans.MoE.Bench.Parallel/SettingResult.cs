using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Bench.Parallel;

/// <summary>One model's figures in one setting, from every rank's result lines.</summary>
/// <param name="StepMs">Per timed repetition, the slowest rank's step time (the step ends when the last rank ends).</param>
/// <param name="ExchangeBytes">Routed layers' exchange bytes sent to other ranks per step, mean over ranks and repetitions.</param>
/// <param name="ExchangeBytesMaxRank">The same for the rank that sent the most (EP depends on the routing; HP is equal on every rank).</param>
/// <param name="MetadataBytes">Of <paramref name="ExchangeBytes"/>, the per-expert counts (EP only).</param>
/// <param name="GradientBytes">Gradient all-reduce bytes sent to other ranks per step and rank (ring estimate).</param>
internal sealed record ModeResult(ParallelMode Mode, double[] StepMs, double FirstLoss, double ExchangeBytes,
    double ExchangeBytesMaxRank, double MetadataBytes, double GradientBytes)
{
    public double MedianMs => Statistics.Median(StepMs);

    public double TotalBytes => ExchangeBytes + GradientBytes;

    public static ModeResult From(ParallelMode mode, IReadOnlyList<(int Rank, Dictionary<string, string> Fields)> steps, int worldSize)
    {
        var mine = steps.Where(s => s.Fields["mode"] == mode.ToString()).ToArray();
        var timed = mine.Where(s => s.Fields.Number("rep") >= 0).ToArray();
        if (timed.Length == 0) throw new InvalidOperationException($"no timed {mode} steps were reported");
        var reps = timed.GroupBy(s => (int)s.Fields.Number("rep")).OrderBy(g => g.Key).ToArray();
        if (reps.Any(g => g.Count() != worldSize)) throw new InvalidOperationException($"some ranks did not report every {mode} step");
        var firstLoss = mine.Where(s => s.Rank == 0).OrderBy(s => s.Fields.Number("rep")).First().Fields.Number("loss");
        double PerRank(string field) => timed.Average(s => s.Fields.Number(field));
        var maxRank = timed.GroupBy(s => s.Rank).Max(g => g.Average(s => s.Fields.Number("xsent")));
        return new ModeResult(mode, reps.Select(g => g.Max(s => s.Fields.Number("ms"))).ToArray(), firstLoss,
            PerRank("xsent"), maxRank, PerRank("meta"), PerRank("gsent"));
    }
}

/// <summary>Head parallel against expert parallel at one world size over one kind of link.</summary>
/// <param name="LinkMbit">The slowest rank's measured all-to-all send rate (Mbit/s, remote bytes only).</param>
internal sealed record SettingResult(LinkSetting Link, int WorldSize, double LinkMbit, ModeResult Head, ModeResult Expert)
{
    /// <summary>EP's median step time over HP's: above 1, head parallel is faster.</summary>
    public double Speedup => Expert.MedianMs / Head.MedianMs;

    /// <summary>The median over repetitions of EP over HP within the same repetition (load drifting during the run cancels out).</summary>
    public double PairedSpeedup => Statistics.Median(Head.StepMs.Zip(Expert.StepMs, (h, e) => e / h).ToArray());

    public double ExchangeByteRatio => Head.ExchangeBytes / Expert.ExchangeBytes;

    public double TotalByteRatio => Head.TotalBytes / Expert.TotalBytes;

    public static SettingResult From(LinkSetting link, int worldSize, IReadOnlyList<(int Rank, string Line)> lines)
    {
        var parsed = lines.Select(l => (l.Rank, Parsed: RankLine.Parse(l.Line)!.Value)).ToArray();
        var steps = parsed.Where(p => p.Parsed.Kind == "step").Select(p => (p.Rank, p.Parsed.Fields)).ToArray();
        var links = parsed.Where(p => p.Parsed.Kind == "link").Select(p => p.Parsed.Fields.Number("mbit")).ToArray();
        return new SettingResult(link, worldSize, links.Length > 0 ? links.Min() : double.NaN,
            ModeResult.From(ParallelMode.Head, steps, worldSize), ModeResult.From(ParallelMode.Expert, steps, worldSize));
    }
}

internal static class Statistics
{
    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
