using System.Diagnostics;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.Runs;
using Xunit.Abstractions;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// Faults on a cluster of real processes (a real redis-server, silo processes, worker processes), with
/// membership tuned to declare a dead silo dead in seconds: `kill -9` of a silo (one running a
/// submodel, the coordinator's), SIGTERM to a silo, Redis stopped for a while, killed and frozen
/// workers. Each disturbed experiment must end with the undisturbed run's metrics, bit for bit, or,
/// past its failure budget, fail saying why.
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed class FaultToleranceTests(FaultExperiment experiment, ITestOutputHelper output) : IClassFixture<FaultExperiment>, IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-fault-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        output.WriteLine($"took {_clock.Elapsed.TotalSeconds:F0} s");
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private const string Big = "class=high-memory,devices=2,price=2.28";
    private const string Small = "class=low-cost,devices=1,price=0.35";

    /// <summary>Waits until the job runs and has written a checkpoint (it is mid-training), and returns its view.</summary>
    private static async Task<JobView> MidTrainingAsync(ProcessCluster cluster, IExperimentCoordinatorGrain coordinator, string job, string runDirectory)
    {
        var checkpoints = TrainingJob.CheckpointDirectoryOf(runDirectory);
        var status = await ProcessCluster.UntilAsync(coordinator, s => s.Jobs.Any(j => j.Name == job && j.Status == JobStatus.Running)
            && Directory.Exists(checkpoints) && Directory.EnumerateDirectories(checkpoints, "step-*").Any(), $"{job} mid-training", RunTimeout);
        return status.Jobs.Single(j => j.Name == job);
    }

    [Fact]
    public async Task ASiloKilledWhileItsSubmodelTrainsLosesOnlyTheStepsSinceTheCheckpoint()
    {
        await using var cluster = await ProcessCluster.StartAsync(_root, null, ("big", Big), ("small-a", Small), ("small-b", Small));
        var coordinator = cluster.Submit("killed", experiment.Json);
        var layout = new Training.DisCo.DisCoLayout(cluster.ExperimentDirectory("killed"));
        var victim = (await MidTrainingAsync(cluster, coordinator, "submodel-0", layout.Submodel(0))).Silo!;
        cluster.Kill(victim);

        var status = await ProcessCluster.UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end", RunTimeout);
        Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
        var submodel = status.Jobs.Single(j => j.Name == "submodel-0");
        Assert.True(submodel.Attempt >= 2, $"submodel-0 ran {submodel.Attempt} attempt(s)");
        Assert.NotEqual(victim, submodel.Silo);
        Assert.StartsWith("small-", submodel.Silo);   // re-placed on the other low-cost silo
        experiment.AssertSameMetrics(cluster.ExperimentDirectory("killed"));
        // The killed silo's slots left the ledger.
        var silos = await cluster.Client.GetGrain<Grains.Placement.ISlotLedgerGrain>(0).GetSilosAsync();
        Assert.DoesNotContain(silos, s => s.Name == victim);
    }

    /// <summary>Waits (bounded) until the silo's supervisor runs the job's attempt, and returns the worker's process id.</summary>
    private static async Task<int> WorkerAsync(ProcessCluster cluster, string silo, string jobKey, int attempt)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return await cluster.WorkerOfAsync(silo, jobKey, attempt);
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);   // the supervisor has not started it yet
            }
        }
    }

    /// <summary>Every event of the experiment, oldest first (the fault tests' experiments stay far below the events kept).</summary>
    private static async Task<IReadOnlyList<string>> EventsAsync(IExperimentCoordinatorGrain coordinator) =>
        (await coordinator.GetEventsAsync(0)).Select(e => e.Text).ToList();

    [Fact]
    public async Task TheCoordinatorsSiloKilledMidPhaseResumesTheExperimentWithoutRunningAPhaseTwice()
    {
        // Two silos of each class: whichever silo the coordinator lives on, one of its class survives.
        await using var cluster = await ProcessCluster.StartAsync(_root, null, ("big-a", Big), ("big-b", Big), ("small-a", Small), ("small-b", Small));
        var coordinator = cluster.Submit("coordinator", experiment.Json);
        var layout = new Training.DisCo.DisCoLayout(cluster.ExperimentDirectory("coordinator"));
        await MidTrainingAsync(cluster, coordinator, "submodel-0", layout.Submodel(0));
        var victim = await cluster.SiloOfAsync(coordinator);
        var before = (await coordinator.GetStatusAsync()).Jobs.Where(j => j.Status == JobStatus.Running).ToList();
        output.WriteLine($"killing {victim}, the coordinator's silo; running: {string.Join(", ", before.Select(j => $"{j.Name}#{j.Attempt} on {j.Silo}"))}");
        cluster.Kill(victim);

        var status = await ProcessCluster.UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end", RunTimeout);
        Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
        Assert.NotEqual(victim, await cluster.SiloOfAsync(coordinator));
        experiment.AssertSameMetrics(cluster.ExperimentDirectory("coordinator"));
        // The new activation adopted the jobs that kept running on the other silos: same attempt, same silo.
        foreach (var survivor in before.Where(j => j.Silo != victim))
        {
            var after = status.Jobs.Single(j => j.Name == survivor.Name);
            Assert.True(after.Attempt == survivor.Attempt && after.Silo == survivor.Silo,
                $"{survivor.Name} ran attempt {survivor.Attempt} on {survivor.Silo} when the coordinator died, and ended with attempt {after.Attempt} on {after.Silo}");
        }
        // Each job's end and each transition was recorded once, by one activation or the other.
        var events = await EventsAsync(coordinator);
        foreach (var job in status.Jobs)
            Assert.True(events.Count(e => e.StartsWith($"{job.Name}: done on", StringComparison.Ordinal)) == 1, $"{job.Name} ended other than once:\n{string.Join("\n", events)}");
        var transitions = events.Where(e => e.StartsWith("phase ", StringComparison.Ordinal)).ToList();
        Assert.True(transitions.Distinct().Count() == transitions.Count, $"a transition was made twice:\n{string.Join("\n", transitions)}");
        // The trace survived the coordinator's re-activation: one trace under one experiment root. Spans
        // the killed silo still held open are lost: its workers' open spans, and the attempt spans of the
        // job grains that lived there (a placement span decided under such an attempt then has no parent).
        var trace = Silo.Telemetry.SpanTree.Load(cluster.ExperimentDirectory("coordinator"));
        var root = Assert.Single(trace.Roots, s => s.ParentSpanId is null);
        Assert.Equal("experiment", root.Name);
        Assert.Single(trace.Spans.Select(s => s.TraceId).Distinct());
        Assert.All(trace.Orphans, o => Assert.True(o.Process == "moe-worker" || o.Name == "placement", $"{o.Name} [{o.Process}] lost its parent"));
    }

    [Fact]
    public async Task RedisStoppedForTwentySecondsMidPhaseOnlyDelaysTheExperiment()
    {
        await using var cluster = await ProcessCluster.StartAsync(_root, null, ("big", Big), ("small-a", Small), ("small-b", Small));
        var coordinator = cluster.Submit("outage", experiment.Json);
        var layout = new Training.DisCo.DisCoLayout(cluster.ExperimentDirectory("outage"));
        await MidTrainingAsync(cluster, coordinator, "submodel-0", layout.Submodel(0));
        cluster.Redis.Stop();
        await Task.Delay(TimeSpan.FromSeconds(20));
        cluster.Redis.Start();

        var status = await ProcessCluster.UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end", RunTimeout);
        Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
        experiment.AssertSameMetrics(cluster.ExperimentDirectory("outage"));
        // No silo was lost on the way.
        Assert.Equal(["big", "small-a", "small-b"], (await cluster.Client.GetGrain<Grains.Placement.ISlotLedgerGrain>(0).GetSilosAsync()).Select(s => s.Name));
    }

    [Fact]
    public async Task ASiloStoppedWithSigtermMovesItsSubmodelWithoutCountingAFailure()
    {
        await using var cluster = await ProcessCluster.StartAsync(_root, null, ("big", Big), ("small-a", Small), ("small-b", Small));
        var coordinator = cluster.Submit("terminated", experiment.Json);
        var layout = new Training.DisCo.DisCoLayout(cluster.ExperimentDirectory("terminated"));
        var running = await MidTrainingAsync(cluster, coordinator, "submodel-0", layout.Submodel(0));
        var victim = running.Silo!;
        ProcessCluster.Signal(cluster.Silo(victim).Process.Process.Id, "TERM");
        Assert.Equal(0, cluster.Silo(victim).Process.WaitForExit(TimeSpan.FromSeconds(90)));   // its worker checkpointed and the silo left

        var status = await ProcessCluster.UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end", RunTimeout);
        Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
        var submodel = status.Jobs.Single(j => j.Name == "submodel-0");
        Assert.Equal(0, submodel.Failures);
        // Placed once more, on the other silo: the stopping silo offered its freed slot to nobody.
        Assert.True(submodel.Attempt == running.Attempt + 1, $"submodel-0 ran attempt {running.Attempt} on {victim}, and ended with attempt {submodel.Attempt}");
        Assert.NotEqual(victim, submodel.Silo);
        Assert.StartsWith("small-", submodel.Silo);
        // The interrupted attempt left a checkpoint of the step it stopped at, after the last periodic one.
        Assert.Contains("stopped on request after its checkpoint", File.ReadAllText(Path.Combine(layout.Root, "jobs", "submodel-0", $"attempt-{running.Attempt}", "worker.log")));
        experiment.AssertSameMetrics(cluster.ExperimentDirectory("terminated"));
    }

    [Fact]
    public async Task AKilledWorkerAndAFrozenWorkerAreRetriedFromTheirCheckpoints()
    {
        // A stall timeout short enough for the test, long enough for most workers to start on a loaded
        // machine (one that does not is retried: the budget is 3 failures).
        var json = FaultExperiment.With(experiment.Corpus, "\n  \"cluster\": { \"job_stall_timeout_seconds\": 30 },");
        await using var cluster = await ProcessCluster.StartAsync(_root, null, ("big", Big), ("small-a", Small), ("small-b", Small));
        var coordinator = cluster.Submit("workers", json);
        var layout = new Training.DisCo.DisCoLayout(cluster.ExperimentDirectory("workers"));
        var killed = await MidTrainingAsync(cluster, coordinator, "submodel-0", layout.Submodel(0));
        var frozen = await MidTrainingAsync(cluster, coordinator, "submodel-1", layout.Submodel(1));
        ProcessCluster.Signal(await WorkerAsync(cluster, killed.Silo!, JobKeys.Of("workers", "submodel-0"), killed.Attempt), "KILL");
        ProcessCluster.Signal(await WorkerAsync(cluster, frozen.Silo!, JobKeys.Of("workers", "submodel-1"), frozen.Attempt), "STOP");

        var status = await ProcessCluster.UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end", RunTimeout);
        Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
        foreach (var (name, before) in new[] { ("submodel-0", killed), ("submodel-1", frozen) })
        {
            var after = status.Jobs.Single(j => j.Name == name);
            Assert.True(after.Attempt > before.Attempt && after.Failures >= 1, $"{name}: attempt {after.Attempt} after {before.Attempt}, {after.Failures} failures");
        }
        Assert.Contains("no progress for 30 s (job_stall_timeout)",
            File.ReadAllText(Path.Combine(layout.Root, "jobs", "submodel-1", $"attempt-{frozen.Attempt}", "worker.log")));
        experiment.AssertSameMetrics(cluster.ExperimentDirectory("workers"));
    }

    [Fact]
    public async Task AJobPastItsFailureBudgetFailsTheExperimentNamingTheJobTheSiloAndTheError()
    {
        var json = FaultExperiment.With(experiment.Corpus, "\n  \"cluster\": { \"max_failures\": 0 },");
        await using var cluster = await ProcessCluster.StartAsync(_root, null, ("big", Big), ("small-a", Small), ("small-b", Small));
        var coordinator = cluster.Submit("budget", json);
        var running = (await ProcessCluster.UntilAsync(coordinator, s => s.Jobs.Any(j => j.Name == "submodel-0" && j.Status == JobStatus.Running && j.Silo is not null),
            "submodel-0 running", RunTimeout)).Jobs.Single(j => j.Name == "submodel-0");
        ProcessCluster.Signal(await WorkerAsync(cluster, running.Silo!, JobKeys.Of("budget", "submodel-0"), running.Attempt), "KILL");

        var status = await ProcessCluster.UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end", RunTimeout);
        Assert.Equal(ExperimentPhase.Failed, status.Phase);
        Assert.Contains("submodel-0", status.Message);
        Assert.Contains($"silo {running.Silo}", status.Message);
        Assert.Contains("killed by signal 9", status.Message);
        var submodel = status.Jobs.Single(j => j.Name == "submodel-0");
        Assert.Equal(JobStatus.Failed, submodel.Status);
        Assert.Equal(running.Attempt, submodel.Attempt);   // not retried: the budget allows no failure
        // The experiment's end stopped the other jobs, and its status says so: none still shows as running.
        status = await ProcessCluster.UntilAsync(coordinator, s => s.Jobs.All(j => j.Status.IsTerminal()), "every job stopped", TimeSpan.FromSeconds(90));
        Assert.Equal(ExperimentPhase.Failed, status.Phase);
        Assert.Contains("submodel-0", status.Message);
    }
}
