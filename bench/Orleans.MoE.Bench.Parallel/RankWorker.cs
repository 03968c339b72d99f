using System.Diagnostics;
using System.Globalization;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Bench.Parallel;

/// <summary>
/// One rank of a benchmark setting, run as its own process (in its own network namespace when the
/// links are limited). It joins the group, builds its parts of both models, measures the link with one
/// all-to-all, then times training steps of the two models alternately (head parallel first in even
/// repetitions, expert parallel first in odd ones), so that load on the machine falls on both alike.
/// Results go to stdout as <see cref="RankLine"/>s for the coordinator.
/// </summary>
internal static class RankWorker
{
    public static int Run(RankOptions o)
    {
        if (o.ExitWithParent) ExitWhenParentGoes();
        TorchRuntime.Threads = o.Threads;
        using var group = ProcessGroup.Join(RendezvousAddress.Parse(o.Rendezvous), o.Rank, o.WorldSize,
            TimeSpan.FromSeconds(o.TimeoutSeconds), bindAddress: o.BindAddress);
        using var head = new RankTrainer(group, ParallelMode.Head, BenchModels.MultiHeadLatentMoe(o.TopK), o.Batch, BenchModels.SequenceLength);
        using var expert = new RankTrainer(group, ParallelMode.Expert, BenchModels.Moe(o.TopK), o.Batch, BenchModels.SequenceLength);

        Emit(RankLine.Link(o.Rank, MeasureLink(group)));
        var total = o.Warmup + o.Reps;
        for (var i = 0; i < total; i++)
        {
            var order = i % 2 == 0 ? new[] { head, expert } : [expert, head];
            foreach (var trainer in order)
            {
                group.Barrier("step start");   // every rank starts the step together; not timed
                var (ms, loss) = trainer.Step();
                if (!double.IsFinite(loss)) throw new InvalidOperationException($"rank {o.Rank}: {trainer.Mode} step {i} gave loss {loss}");
                Emit(RankLine.Step(o.Rank, trainer.Mode, i - o.Warmup, ms, loss, trainer.ReadTraffic()));
            }
        }
        group.Barrier("done");
        return 0;
    }

    /// <summary>
    /// Megabit/s this rank sends to the others in one equal-split all-to-all of 4 MiB (remote share only),
    /// the median of three after one warm-up call. On limited links it shows the rate the ranks really get.
    /// </summary>
    private static double MeasureLink(ProcessGroup group)
    {
        using var scope = DisposeScope.Begin();
        const long bytes = 4L << 20;
        var p = group.WorldSize;
        var columns = bytes / 4 / 1024 / p * p;   // rows of 1024 floats, divisible by P
        var buffer = Tensor.Zeros([columns, 1024]);
        using var counter = new TrafficCounter();
        group.AllToAll(buffer.Narrow(0, 0, p).Contiguous(), label: "link warm-up");
        var rates = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            group.Barrier("link");
            counter.ReadAndReset();
            var clock = Stopwatch.StartNew();
            group.AllToAll(buffer, counter: counter, label: "link");
            var seconds = clock.Elapsed.TotalSeconds;
            rates.Add(counter.Read().RemoteBytesSent * 8 / seconds / 1e6);
        }
        rates.Sort();
        return rates[1];
    }

    /// <summary>
    /// The coordinator holds this process's stdin open; end of input means it is gone (even killed
    /// outright), and a rank without its coordinator has no one to report to, so it exits.
    /// </summary>
    private static void ExitWhenParentGoes()
    {
        var watcher = new Thread(() =>
        {
            while (Console.In.Read() >= 0) { }
            Console.Error.WriteLine("the coordinator is gone (stdin closed); exiting");
            Environment.Exit(3);
        }) { IsBackground = true, Name = "parent watch" };
        watcher.Start();
    }

    private static void Emit(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}

/// <summary>The lines a rank prints for the coordinator, and their parsing.</summary>
internal static class RankLine
{
    public const string Prefix = "BENCH ";

    public static string Link(int rank, double megabits) =>
        FormattableString.Invariant($"{Prefix}link rank={rank} mbit={megabits:F1}");

    public static string Step(int rank, ParallelMode mode, int rep, double ms, double loss, StepTraffic t) =>
        FormattableString.Invariant(
            $"{Prefix}step rank={rank} mode={mode} rep={rep} ms={ms:F3} loss={loss:F5} xsent={t.ExchangeSent} xrecv={t.ExchangeReceived} ") + FormattableString.Invariant(
            $"meta={t.MetadataSent} gsent={t.GradientSent} grecv={t.GradientReceived} xall={t.ExchangeSentWithSelf}");

    /// <summary>The kind ("link", "step") and the key=value fields of a rank line, or null for other output.</summary>
    public static (string Kind, Dictionary<string, string> Fields)? Parse(string line)
    {
        if (!line.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var parts = line[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var fields = parts.Skip(1).Select(p => p.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
        return (parts[0], fields);
    }

    public static double Number(this Dictionary<string, string> fields, string key) =>
        double.Parse(fields[key], CultureInfo.InvariantCulture);
}
