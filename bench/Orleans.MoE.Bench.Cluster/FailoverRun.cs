using System.Globalization;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.DisCo;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Bench.Cluster;

/// <summary>What one failover measurement saw; times in seconds after the kill, null where the wait's bound was hit first.</summary>
internal sealed record FailoverResult(
    string Setting, string Job, string Victim, int KilledAttempt, string? Replacement,
    double? Dead, double? Reattempted, double? Launched, double? FirstStep, double BoundSeconds,
    long LastStep, long CheckpointStep, long? ResumedStep, int CheckpointEvery, double IntervalSeconds, string GrainsOnVictim)
{
    public double? Detection => Dead;

    public double? Restart => FirstStep - Dead;

    public double? Total => FirstStep;

    public long StepsLost => LastStep - CheckpointStep;
}

/// <summary>
/// One failover on a fresh process cluster (a redis-server and silo processes on loopback, all with
/// the given membership variables): the small experiment's submodels train; one runs on a silo that
/// joined after the experiment's grains were placed (so the kill takes the job, not the coordinator or
/// the job's grain); in the middle of a checkpoint interval that silo is killed (SIGKILL, with its
/// worker), or frozen (SIGSTOP, with its worker: its connections stay open and stop answering, as
/// when a machine loses power or its network); the timeline is read until the job's next attempt takes its first step elsewhere.
/// </summary>
internal static class FailoverRun
{
    private const string Id = "bench-failover";

    public static async Task<FailoverResult> MeasureAsync(string root, string setting, IReadOnlyDictionary<string, string> membership, int checkpointEvery, TimeSpan bound, bool freeze)
    {
        var artifacts = Path.Combine(root, "failover-" + setting, "artifacts");
        var experimentDirectory = Path.Combine(artifacts, Id);
        using var redis = new RedisServer();
        var silos = new Dictionary<string, SiloProcess>();
        try
        {
            void Start(string name, string deviceClass, double price) =>
                silos[name] = new SiloProcess(name, redis.ConnectionString, artifacts, [], BenchSilo.Pool(deviceClass, price, devices: 1), BenchSilo.Command, membership);
            Start("big", "high-memory", 2.28);
            Start("small", "low-cost", 0.35);
            await using var client = await ClusterClient.ConnectAsync(redis.ConnectionString);
            await client.WaitForSilosAsync("big", "small");
            var coordinator = client.Client.GetGrain<IExperimentCoordinatorGrain>(Id);
            await coordinator.StartAsync(new ExperimentPlan { ExperimentId = Id, ExperimentJson = BenchExperiments.Failover(checkpointEvery), Directory = Id });

            // One submodel trains on `small`, the other waits for a low-cost slot: its grain is placed; now two more low-cost silos join.
            var waiting = await UntilAsync(coordinator, s => Submodels(s).Count(j => j.Status == JobStatus.Running) == 1 && Submodels(s).Any(j => j.Status == JobStatus.Waiting),
                "a submodel training and one waiting", TimeSpan.FromMinutes(4));
            var job = Submodels(waiting).Single(j => j.Status == JobStatus.Waiting).Name;
            Start("late-a", "low-cost", 0.35);
            Start("late-b", "low-cost", 0.35);
            await client.WaitForSilosAsync("big", "small", "late-a", "late-b");

            // Mid-training on a late silo, past a checkpoint, in the middle of an interval.
            var runDirectory = new DisCoLayout(experimentDirectory).Submodel(int.Parse(job["submodel-".Length..], CultureInfo.InvariantCulture));
            var checkpoints = new CheckpointStore(TrainingJob.CheckpointDirectoryOf(runDirectory));
            (long Step, DateTimeOffset At)? first = null;
            JobView view;
            while (true)
            {
                view = (await UntilAsync(coordinator, s => s.Jobs.Any(j => j.Name == job && j.Status == JobStatus.Running && (j.Silo is "late-a" or "late-b") && j.Step > 0),
                    $"{job} training on a late silo", TimeSpan.FromMinutes(3))).Jobs.Single(j => j.Name == job);
                first ??= (view.Step, view.Updated);
                if (checkpoints.LatestStep is { } saved && view.Step - saved >= checkpointEvery / 2 && view.Step > first.Value.Step) break;
                await Task.Delay(50);
            }
            var victim = view.Silo!;
            var interval = checkpointEvery * (view.Updated - first.Value.At).TotalSeconds / (view.Step - first.Value.Step);
            var grainsOnVictim = await GrainsOnAsync(client.Client, victim, coordinator, client.Client.GetGrain<IExpertSubmodelGrain>(JobKeys.Of(Id, job)));

            var killed = DateTimeOffset.UtcNow;
            if (freeze) Freeze(silos[victim].Process.Process.Id);
            else silos[victim].Process.Kill();
            var checkpointStep = checkpoints.LatestStep ?? 0;
            var reached = Math.Max(view.Step, LastLoggedStep(Path.Combine(runDirectory, MetricsLog.FileName)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {setting}: {(freeze ? "froze" : "killed")} {victim} (running {job} attempt {view.Attempt}, last progress step {view.Step}, last step in its metrics {reached}, checkpoint step {checkpointStep}); waiting at most {bound.TotalSeconds:F0} s"));

            using var table = new MembershipTable(redis.ConnectionString);
            var deadline = killed + bound;
            double? dead = null, reattempted = null, launched = null, firstStep = null;
            long? resumedStep = null;
            string? replacement = null;
            var log = Path.Combine(experimentDirectory, "jobs", job, $"attempt-{view.Attempt + 1}", "worker.log");
            while (DateTimeOffset.UtcNow < deadline && firstStep is null)
            {
                if (dead is null && await table.StatusOfAsync(victim) == "Dead") dead = Since(killed);
                if (await ViewOfAsync(coordinator, job) is { } now && now.Attempt > view.Attempt)
                {
                    reattempted ??= Since(killed);
                    replacement = now.Silo;
                    if (now.Step > 0) resumedStep ??= now.Step;
                }
                launched ??= LogTime(log, l => l.Contains(" attempt ", StringComparison.Ordinal)) is { } l1 ? (l1 - killed).TotalSeconds : null;
                firstStep ??= LogTime(log, l => l.EndsWith(" first step", StringComparison.Ordinal)) is { } l2 ? (l2 - killed).TotalSeconds : null;
                await Task.Delay(100);
            }
            // The first progress the coordinator saw of the new attempt, if the wait ended before it arrived.
            for (var i = 0; i < 30 && firstStep is not null && resumedStep is null; i++)
            {
                if (await ViewOfAsync(coordinator, job) is { } now && now.Attempt > view.Attempt && now.Step > 0) (resumedStep, replacement) = (now.Step, now.Silo);
                else await Task.Delay(100);
            }
            return new FailoverResult(setting, job, victim, view.Attempt, replacement, dead, reattempted, launched, firstStep, bound.TotalSeconds,
                reached, checkpointStep, resumedStep, checkpointEvery, interval, grainsOnVictim);
        }
        finally
        {
            foreach (var silo in silos.Values) silo.Dispose();
        }
    }

    /// <summary>SIGSTOP to a process and its descendants (the silo and its worker): a machine that stops answering but closes no connection.</summary>
    private static void Freeze(int pid)
    {
        ProcessCluster.Signal(pid, "STOP");
        foreach (var child in Children(pid)) Freeze(child);
    }

    private static IEnumerable<int> Children(int pid)
    {
        var tasks = $"/proc/{pid}/task";
        if (!Directory.Exists(tasks)) return [];
        return Directory.EnumerateDirectories(tasks)
            .SelectMany(t => File.Exists(Path.Combine(t, "children")) ? File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries) : [])
            .Select(c => int.Parse(c, CultureInfo.InvariantCulture)).Distinct().ToList();
    }

    private static IEnumerable<JobView> Submodels(ExperimentStatus status) => status.Jobs.Where(j => j.Name.StartsWith("submodel-", StringComparison.Ordinal));

    private static double Since(DateTimeOffset start) => (DateTimeOffset.UtcNow - start).TotalSeconds;

    /// <summary>The job's view now, or null when the coordinator does not answer within a second (its silo may be the dead one).</summary>
    private static async Task<JobView?> ViewOfAsync(IExperimentCoordinatorGrain coordinator, string job)
    {
        try
        {
            return (await coordinator.GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(1))).Jobs.SingleOrDefault(j => j.Name == job);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            return null;
        }
    }

    /// <summary>The last training step in a run's metrics log (each line is flushed when written), 0 if none.</summary>
    private static long LastLoggedStep(string path)
    {
        if (!File.Exists(path)) return 0;
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        long last = 0;
        while (reader.ReadLine() is { } line)
        {
            try
            {
                if (System.Text.Json.Nodes.JsonNode.Parse(line) is System.Text.Json.Nodes.JsonObject o && (string?)o["event"] == "train") last = Math.Max(last, (long?)o["step"] ?? 0);
            }
            catch (System.Text.Json.JsonException)
            {
                // a line cut short by the kill
            }
        }
        return last;
    }

    /// <summary>The time of the first `--- TIME ...` line of a worker log that matches, or null.</summary>
    private static DateTimeOffset? LogTime(string path, Func<string, bool> which)
    {
        if (!File.Exists(path)) return null;
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        while (reader.ReadLine() is { } line)
            if (line.StartsWith("--- ", StringComparison.Ordinal) && line.IndexOf(' ', 4) is > 4 and var end && which(line)
                && DateTimeOffset.TryParse(line[4..end], CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)) return at;
        return null;
    }

    /// <summary>The control grains (coordinator, slot ledger, the job's grain) active on the named silo, "none" if none is.</summary>
    private static async Task<string> GrainsOnAsync(IClusterClient client, string silo, params IAddressable[] grains)
    {
        var views = await client.GetGrain<ISlotLedgerGrain>(0).GetSilosAsync();
        var management = client.GetGrain<IManagementGrain>(0);
        var on = new List<string>();
        foreach (var grain in grains.Append(client.GetGrain<ISlotLedgerGrain>(0)))
        {
            var address = await management.GetActivationAddress(grain);
            if (address is not null && views.SingleOrDefault(v => v.Silo == SiloPinnedPlacement.KeyOf(address))?.Name == silo)
                on.Add(grain.GetGrainId().Type.ToString()!);
        }
        return on.Count == 0 ? "none" : string.Join(",", on);
    }

    private static async Task<ExperimentStatus> UntilAsync(IExperimentCoordinatorGrain coordinator, Func<ExperimentStatus, bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var status = await coordinator.GetStatusAsync();
            if (condition(status)) return status;
            if (status.Phase.IsTerminal()) throw new InvalidOperationException($"the experiment ended {status.Phase} before {what}: {status.Message}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}; last: {status.Phase}: {status.Message}");
            await Task.Delay(100);
        }
    }
}
