using System.Globalization;

namespace Orleans.MoE.Bench.Parallel;

/// <summary>What the coordinator runs: world sizes, link settings, model k, global batch and repetitions.</summary>
internal sealed record BenchOptions(
    IReadOnlyList<int> WorldSizes,
    IReadOnlyList<LinkSetting> Settings,
    int TopK,
    int Batch,
    int Warmup,
    int Reps,
    int TimeoutSeconds)
{
    /// <summary>
    /// P = 1 (loopback only: the compute without communication), 2 and 4; loopback, 1 Gbit/s and 100 Mbit/s; k = 4; 8 sequences of 256 tokens per step (global);
    /// 2 warm-up steps and 5 timed repetitions per model. Under ten minutes on two cores.
    /// </summary>
    public static BenchOptions Default => new([1, 2, 4], [LinkSetting.Loopback, LinkSetting.Limited(1000), LinkSetting.Limited(100)],
        TopK: 4, Batch: 8, Warmup: 2, Reps: 5, TimeoutSeconds: 180);

    public const string Usage =
        "options: --world-sizes 1,2,4 (1: loopback only)  --links loopback,1000,100 (Mbit/s; 0 = veth without a limit)  --topk N  --batch N (global sequences)  " +
        "--warmup N  --reps N  --timeout SECONDS  --quick (2 reps)  --loopback-only";

    public static BenchOptions Parse(string[] args)
    {
        var o = Default;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {args[i]} needs a value; {Usage}");
            switch (args[i])
            {
                case "--world-sizes": o = o with { WorldSizes = Value().Split(',').Select(s => Int(s, "--world-sizes", 1)).ToArray() }; break;
                case "--links": o = o with { Settings = Value().Split(',').Select(ParseLink).ToArray() }; break;
                case "--topk": o = o with { TopK = Int(Value(), "--topk", 1) }; break;
                case "--batch": o = o with { Batch = Int(Value(), "--batch", 1) }; break;
                case "--warmup": o = o with { Warmup = Int(Value(), "--warmup", 0) }; break;
                case "--reps": o = o with { Reps = Int(Value(), "--reps", 1) }; break;
                case "--timeout": o = o with { TimeoutSeconds = Int(Value(), "--timeout", 1) }; break;
                case "--quick": o = o with { Warmup = 1, Reps = 2 }; break;
                case "--loopback-only": o = o with { Settings = [LinkSetting.Loopback] }; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'; {Usage}");
            }
        }
        foreach (var p in o.WorldSizes)
        {
            if (BenchModels.Heads % p != 0 || BenchModels.Experts % p != 0 || o.Batch % p != 0)
                throw new ArgumentException($"--world-sizes: P = {p} must divide N_h = {BenchModels.Heads}, N_e = {BenchModels.Experts} and --batch = {o.Batch}");
        }
        return o;
    }

    private static LinkSetting ParseLink(string text) =>
        text == "loopback" ? LinkSetting.Loopback : LinkSetting.Limited(Int(text, "--links", 0));

    private static int Int(string text, string option, int min) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new ArgumentException($"{option} needs integers >= {min}, got '{text}'");
}

/// <summary>
/// How the ranks reach each other: plain loopback in this namespace, or one network namespace per rank
/// joined by veth links to a bridge, each link limited to <see cref="Megabits"/> in both directions
/// (0: no limit).
/// </summary>
internal sealed record LinkSetting(bool Namespaces, int Megabits)
{
    public static readonly LinkSetting Loopback = new(false, 0);

    public static LinkSetting Limited(int megabits) => new(true, megabits);

    public override string ToString() => !Namespaces ? "loopback" : Megabits == 0 ? "veth, no limit"
        : Megabits >= 1000 && Megabits % 1000 == 0 ? $"veth {Megabits / 1000} Gbit/s" : $"veth {Megabits} Mbit/s";
}

/// <summary>One rank process's arguments (the coordinator passes them).</summary>
internal sealed record RankOptions(int Rank, int WorldSize, string Rendezvous, string? BindAddress, int TopK, int Batch,
    int Warmup, int Reps, int Threads, int TimeoutSeconds, bool ExitWithParent = true)
{
    public static bool IsRankInvocation(string[] args) => args.Contains("--rank");

    public static RankOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"rank arguments are --name value pairs; '{args[i]}' has no value");
            values[args[i]] = args[++i];
        }
        int Int(string name) => values.TryGetValue(name, out var v) && int.TryParse(v, CultureInfo.InvariantCulture, out var n)
            ? n : throw new ArgumentException($"rank argument {name} is missing or not an integer");
        return new RankOptions(Int("--rank"), Int("--world-size"),
            values.TryGetValue("--rendezvous", out var r) ? r : throw new ArgumentException("rank argument --rendezvous host:port is missing"),
            values.GetValueOrDefault("--bind"), Int("--topk"), Int("--batch"), Int("--warmup"), Int("--reps"), Int("--threads"), Int("--timeout"),
            values.GetValueOrDefault("--exit-with-parent", "0") == "1");
    }

    public string[] ToArgs() =>
    [
        "--rank", Rank.ToString(CultureInfo.InvariantCulture), "--world-size", WorldSize.ToString(CultureInfo.InvariantCulture),
        "--rendezvous", Rendezvous, .. BindAddress is null ? Array.Empty<string>() : ["--bind", BindAddress],
        "--topk", TopK.ToString(CultureInfo.InvariantCulture), "--batch", Batch.ToString(CultureInfo.InvariantCulture),
        "--warmup", Warmup.ToString(CultureInfo.InvariantCulture), "--reps", Reps.ToString(CultureInfo.InvariantCulture),
        "--threads", Threads.ToString(CultureInfo.InvariantCulture), "--timeout", TimeoutSeconds.ToString(CultureInfo.InvariantCulture),
        "--exit-with-parent", ExitWithParent ? "1" : "0",
    ];
}
