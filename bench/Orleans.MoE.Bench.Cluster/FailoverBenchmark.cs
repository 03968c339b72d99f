using System.Globalization;

namespace Orleans.MoE.Bench.Cluster;

/// <summary>
/// Failure detection and recovery: the time from `kill -9` of a silo running a submodel's training
/// job to that job's next attempt taking its first step on another silo, split into detection (the
/// membership table declares the silo dead) and restart (re-placement, the worker's start, resuming
/// from the checkpoint), and the steps lost against the checkpoint interval. Measured with Orleans'
/// default membership options and with tuned ones, each on its own fresh cluster, in the same run.
/// </summary>
internal static class FailoverBenchmark
{
    /// <summary>The tuned options: those the tests use (<see cref="SiloProcess.Membership"/>).</summary>
    public static IReadOnlyDictionary<string, string> Tuned => SiloProcess.Membership;

    private const double TargetSeconds = 15;

    public static async Task RunAsync(string root, string[] args)
    {
        var checkpointEvery = Option(args, "--checkpoint-every", 200);
        var bound = TimeSpan.FromSeconds(Option(args, "--bound", 120));
        var freeze = args.Contains("--freeze");
        Console.WriteLine($"failover: {(freeze ? "SIGSTOP (freeze)" : "kill -9")} of a silo running a submodel (checkpoint every {checkpointEvery} steps) -> its next attempt's first step elsewhere");
        // --set NAME=VALUE (repeatable) changes or adds a tuned option: `--set MaxProbeTimeout=00:00:02` is Orleans__Membership__MaxProbeTimeout.
        var tunedOptions = new Dictionary<string, string>(Tuned);
        for (var i = Array.IndexOf(args, "--set"); i >= 0 && i + 1 < args.Length; i = Array.IndexOf(args, "--set", i + 1))
        {
            var (name, value) = (args[i + 1].Split('=', 2)[0], args[i + 1].Split('=', 2).ElementAtOrDefault(1) ?? throw new ArgumentException($"--set {args[i + 1]}: expected NAME=VALUE"));
            tunedOptions["Orleans__Membership__" + name] = value;
        }
        Console.WriteLine("  tuned: " + string.Join(", ", tunedOptions.Select(o => $"{o.Key["Orleans__Membership__".Length..]}={o.Value}")) + "; default: Orleans' own");
        var only = Array.IndexOf(args, "--only") is var o && o >= 0 && o + 1 < args.Length ? args[o + 1] : null;
        var runs = new List<FailoverResult>();
        if (only is null or "tuned")
            runs.Add(await FailoverRun.MeasureAsync(root, "tuned", tunedOptions, checkpointEvery, TimeSpan.FromSeconds(Math.Min(60, bound.TotalSeconds)), freeze));
        if (only is null or "default")
            runs.Add(await FailoverRun.MeasureAsync(root, "default", SiloProcess.OrleansDefaultMembership, checkpointEvery, bound, freeze));
        var tuned = runs.SingleOrDefault(r => r.Setting == "tuned");
        var defaults = runs.SingleOrDefault(r => r.Setting == "default");

        Console.WriteLine("  seconds after the kill:");
        Console.WriteLine("  setting   dead  re-placed  launched  first step | detection  restart | steps lost / interval  interval s  grains on victim  job -> silo");
        foreach (var r in runs)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {r.Setting,-8} {S(r.Dead),5} {S(r.Reattempted),10} {S(r.Launched),9} {S(r.FirstStep),11} | {S(r.Detection),9} {S(r.Restart),8} | " +
                $"{r.StepsLost,10} / {r.CheckpointEvery,-9} {r.IntervalSeconds,11:F1}  {r.GrainsOnVictim,-16}  {r.Job}: {r.Victim} -> {r.Replacement ?? "?"}" +
                $" (resumed at step {r.CheckpointStep}, first step reported {r.ResumedStep?.ToString(CultureInfo.InvariantCulture) ?? "?"})"));

        var suffix = freeze ? "_frozen" : "";
        if (tuned is not null)
        {
            var (reference, referenceIs) = defaults is null ? (tuned.IntervalSeconds, "checkpoint_interval_s") : (defaults.Total ?? defaults.BoundSeconds, "default_options");
            Console.WriteLine(Result("failover_tuned_s" + suffix, tuned, reference, referenceIs, $"target=<={TargetSeconds:F0}s met={(tuned.Total <= TargetSeconds ? "yes" : "no")}"));
        }
        if (defaults is not null) Console.WriteLine(Result("failover_default_s" + suffix, defaults, defaults.IntervalSeconds, "checkpoint_interval_s", ""));
        foreach (var r in runs)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT name=failover_steps_lost_{r.Setting}{suffix} value={r.StepsLost} reference={r.CheckpointEvery} ratio={(double)r.StepsLost / r.CheckpointEvery:F3} " +
                $"target=<={r.CheckpointEvery} met={(r.StepsLost <= r.CheckpointEvery && r.StepsLost >= 0 ? "yes" : "no")} interval_s={r.IntervalSeconds:F1}"));
    }

    private static string Result(string name, FailoverResult r, double reference, string referenceIs, string target)
    {
        var value = r.Total ?? r.BoundSeconds;
        var line = FormattableString.Invariant($"RESULT name={name} value={value:F1} reference={reference:F1} ratio={value / reference:F3}");
        if (target.Length > 0) line += " " + target;
        line += $" detection_s={S(r.Detection)} restart_s={S(r.Restart)} reference_is={referenceIs}";
        return r.Total is null ? line + FormattableString.Invariant($" bound_hit=yes bound_s={r.BoundSeconds:F0}") : line;
    }

    private static string S(double? seconds) => seconds is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) : ">bound";

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
