using System.Globalization;

namespace Orleans.MoE.Bench.Parallel;

/// <summary>Prints the header, one table row per setting as it finishes, and the machine-readable lines.</summary>
internal sealed class ParallelReport(TextWriter output)
{
    private const string RowFormat = "  {0,-16} {1,2} {2,9} {3,10} {4,10} {5,14} {6,9} {7,9} {8,14}";

    public const string Caveat =
        "These are CPU numbers: every rank is a single-threaded CPU process and all ranks share this machine's cores,\n" +
        "over loopback or over tc-limited veth links between network namespaces on this machine. They do not reproduce\n" +
        "the paper's 1.61x GPU speed-up (H100s, BF16, fused IO-aware kernels); they show how the exchanges' volume\n" +
        "and data-dependent splits cost step time as the links get slower.";

    public void Header(IEnumerable<(string Name, string Value)> lines)
    {
        output.WriteLine("Head parallel (Multi-Head LatentMoE) vs expert parallel (MoE): training step time");
        output.WriteLine(Caveat);
        output.WriteLine();
        foreach (var (name, value) in lines) output.WriteLine($"  {name,-34} {value}");
        output.WriteLine();
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, RowFormat,
            "setting", "P", "link Mb/s", "HP ms", "EP ms", "speed-up", "HP MB", "EP MB", "HP/EP bytes"));
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, RowFormat,
            "", "", "measured", "median", "median", "EP/HP (paired)", "per rank", "per rank", "exch (total)"));
        output.Flush();
    }

    public void Row(SettingResult r)
    {
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, RowFormat,
            r.Link.ToString(), r.WorldSize, r.WorldSize == 1 ? "-" : r.LinkMbit.ToString("F0", CultureInfo.InvariantCulture),
            r.Head.MedianMs.ToString("F0", CultureInfo.InvariantCulture), r.Expert.MedianMs.ToString("F0", CultureInfo.InvariantCulture),
            $"{r.Speedup:F2}x ({r.PairedSpeedup:F2}x)", Mb(r.Head.TotalBytes), Mb(r.Expert.TotalBytes),
            r.WorldSize == 1 ? "-" : $"{r.ExchangeByteRatio:F3} ({r.TotalByteRatio:F2})"));
        output.Flush();
    }

    public void Failed(LinkSetting link, int worldSize, string message)
    {
        output.WriteLine($"  {link,-16} {worldSize,2}   failed: {message.Replace("\n", "\n      ", StringComparison.Ordinal)}");
        output.Flush();
    }

    public void Notes(IReadOnlyList<SettingResult> results)
    {
        output.WriteLine();
        output.WriteLine("  ms: the slowest rank's step (forward, backward, gradient all-reduce, AdamW, balancing), median of the timed repetitions.");
        output.WriteLine("  speed-up: EP median over HP median (> 1: head parallel faster); in brackets the median of per-repetition ratios.");
        output.WriteLine("  MB: bytes each rank sends to other ranks per step (routed-layer exchanges, backward included, plus the");
        output.WriteLine("  gradient all-reduce as a ring moves it), from the communication ledgers; fp32, so twice the paper's BF16 bytes.");
        output.WriteLine("  HP/EP bytes: the routed layers' exchanges only (the paper's 1/k), and in brackets with the gradients.");
        output.WriteLine("  P=1: one process, no communication: the two models' compute alone on one thread.");
        foreach (var r in results.Where(r => r.WorldSize > 1).GroupBy(r => r.WorldSize).Select(g => g.First()))
        {
            output.WriteLine(FormattableString.Invariant(
                $"  P={r.WorldSize} per rank and step: HP exchange {Mb(r.Head.ExchangeBytes)} MB (max rank {Mb(r.Head.ExchangeBytesMaxRank)}), ") + FormattableString.Invariant(
                $"EP exchange {Mb(r.Expert.ExchangeBytes)} MB (max rank {Mb(r.Expert.ExchangeBytesMaxRank)}, of it metadata {r.Expert.MetadataBytes / 1e3:F1} kB), ") + FormattableString.Invariant(
                $"gradients HP {Mb(r.Head.GradientBytes)} / EP {Mb(r.Expert.GradientBytes)} MB; first loss HP {r.Head.FirstLoss:F3}, EP {r.Expert.FirstLoss:F3}"));
        }
        output.WriteLine();
        foreach (var r in results)
        {
            var name = $"parallel_{Slug(r.Link)}_p{r.WorldSize}";
            output.WriteLine(FormattableString.Invariant(
                $"RESULT name={name} hp_ms={r.Head.MedianMs:F1} ep_ms={r.Expert.MedianMs:F1} speedup={r.Speedup:F3} paired={r.PairedSpeedup:F3} ") + FormattableString.Invariant(
                $"hp_bytes={r.Head.TotalBytes:F0} ep_bytes={r.Expert.TotalBytes:F0} exchange_ratio={r.ExchangeByteRatio:F4} total_ratio={r.TotalByteRatio:F4} link_mbit={r.LinkMbit:F0}"));
        }
        output.Flush();
    }

    private static string Mb(double bytes) => (bytes / 1e6).ToString("F2", CultureInfo.InvariantCulture);

    private static string Slug(LinkSetting link) => !link.Namespaces ? "loopback" : $"veth{link.Megabits}mbit";
}
