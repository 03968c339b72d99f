using System.Diagnostics;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.Runs;
using Xunit.Abstractions;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// Redis losing its data mid-phase, on a cluster of real processes: emptied under running silos
/// (FLUSHALL), and restarted empty together with every silo, the experiment then submitted again.
/// Either way the experiment ends with the undisturbed run's metrics, no phase recorded done twice and
/// no failure counted for the loss.
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed class RedisLossTests(FaultExperiment experiment, ITestOutputHelper output) : IClassFixture<FaultExperiment>, IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-redis-loss-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        output.WriteLine($"took {_clock.Elapsed.TotalSeconds:F0} s");
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private const string Big = "class=high-memory,devices=2,price=2.28";
    private const string Small = "class=low-cost,devices=1,price=0.35";

    /// <summary>Waits until the job runs and has written a checkpoint (it is mid-training), and returns its view.</summary>
    private static async Task<JobView> MidTrainingAsync(IExperimentCoordinatorGrain coordinator, string job, string runDirectory)
    {
        var checkpoints = TrainingJob.CheckpointDirectoryOf(runDirectory);
        var status = await ProcessCluster.UntilAsync(coordinator, s => s.Jobs.Any(j => j.Name == job && j.Status == JobStatus.Running)
            && Directory.Exists(checkpoints) && Directory.EnumerateDirectories(checkpoints, "step-*").Any(), $"{job} mid-training", RunTimeout);
        return status.Jobs.Single(j => j.Name == job);
    }

    /// <summary>Waits for the experiment's end; on a timeout, the test's output gets every silo's log before the failure.</summary>
    private async Task<ExperimentStatus> EndAsync(ProcessCluster cluster, IExperimentCoordinatorGrain coordinator, params string[] silos)
    {
        try
        {
            return await ProcessCluster.UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end", RunTimeout);
        }
        catch (TimeoutException)
        {
            foreach (var silo in silos) output.WriteLine($"--- silo {silo}:\n{cluster.Silo(silo).Process.Output}");
            try { output.WriteLine(string.Join("\n", (await coordinator.GetEventsAsync(0)).Select(e => e.Text))); } catch (Exception) { }
            throw;
        }
    }

    [Fact]
    public async Task RedisEmptiedMidPhaseUnderRunningSilosTheExperimentCompletesWithoutRunningAPhaseTwice()
    {
        await using var cluster = await ProcessCluster.StartAsync(_root, null, ("big", Big), ("small-a", Small), ("small-b", Small));
        var coordinator = cluster.Submit("flushed", experiment.Json);
        var layout = new Training.DisCo.DisCoLayout(cluster.ExperimentDirectory("flushed"));
        await MidTrainingAsync(coordinator, "submodel-0", layout.Submodel(0));
        cluster.Redis.Flush();

        var status = await EndAsync(cluster, coordinator, "big", "small-a", "small-b");
        var events = (await coordinator.GetEventsAsync(0)).Select(e => e.Text).ToList();
        output.WriteLine(string.Join("\n", events));
        Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
        experiment.AssertSameMetrics(cluster.ExperimentDirectory("flushed"));
        foreach (var job in status.Jobs)
        {
            Assert.True(job.Failures == 0, $"{job.Name} counted {job.Failures} failures: {job.Message}");
            Assert.True(events.Count(e => e.StartsWith($"{job.Name}: done on", StringComparison.Ordinal)) == 1, $"{job.Name} ended other than once:\n{string.Join("\n", events)}");
        }
        var transitions = events.Where(e => e.StartsWith("phase ", StringComparison.Ordinal)).ToList();
        Assert.True(transitions.Distinct().Count() == transitions.Count, $"a transition was made twice:\n{string.Join("\n", transitions)}");
    }

    [Fact]
    public async Task RedisRestartedEmptyWithEverySiloTheResubmittedExperimentResumesAboveItsCheckpointFences()
    {
        await using var cluster = await ProcessCluster.StartAsync(_root, null, ("big", Big), ("small-a", Small), ("small-b", Small));
        var coordinator = cluster.Submit("emptied", experiment.Json);
        var layout = new Training.DisCo.DisCoLayout(cluster.ExperimentDirectory("emptied"));
        var running = await MidTrainingAsync(coordinator, "submodel-0", layout.Submodel(0));
        var before = await coordinator.GetStatusAsync();
        var finished = before.Jobs.Where(j => j.Status == JobStatus.Succeeded).Select(j => j.Name).ToList();
        var attemptsOfFinished = finished.ToDictionary(j => j, j => Directory.GetDirectories(Path.Combine(layout.Root, "jobs", j)).Order().ToList());
        foreach (var silo in new[] { "big", "small-a", "small-b" }) cluster.Kill(silo);
        cluster.Redis.RestartEmpty();
        var fence = File.ReadAllText(Path.Combine(layout.Submodel(0), CheckpointFence.FileName)).Trim();
        output.WriteLine($"finished before the loss: {string.Join(", ", finished)}; submodel-0 at attempt {running.Attempt}, fence {fence}");

        // A new cluster on the empty Redis, the same artifact store; the experiment submitted again.
        foreach (var (name, pool) in new[] { ("big-2", Big), ("small-a-2", Small), ("small-b-2", Small) }) cluster.StartSilo(name, pool);
        await cluster.ReconnectClientAsync();
        await cluster.WaitForSilosAsync("big-2", "small-a-2", "small-b-2");
        coordinator = cluster.Submit("emptied", experiment.Json);

        var status = await EndAsync(cluster, coordinator, "big-2", "small-a-2", "small-b-2");
        var events = (await coordinator.GetEventsAsync(0)).Select(e => e.Text).ToList();
        output.WriteLine(string.Join("\n", events));
        Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
        experiment.AssertSameMetrics(cluster.ExperimentDirectory("emptied"));
        foreach (var job in status.Jobs)
        {
            Assert.True(job.Failures == 0, $"{job.Name} counted {job.Failures} failures: {job.Message}");
            var done = events.Count(e => e.StartsWith($"{job.Name}: done on", StringComparison.Ordinal));
            Assert.True(done == (finished.Contains(job.Name) ? 0 : 1), $"{job.Name} recorded done {done} times after the re-submit:\n{string.Join("\n", events)}");
        }
        // The phases finished before the loss ran no attempt since; the one mid-way resumed above its fence.
        foreach (var (job, attempts) in attemptsOfFinished)
            Assert.Equal(attempts, Directory.GetDirectories(Path.Combine(layout.Root, "jobs", job)).Order().ToList());
        var submodel = status.Jobs.Single(j => j.Name == "submodel-0");
        Assert.True(submodel.Attempt > running.Attempt, $"submodel-0 ran attempt {running.Attempt} before the loss and ended with attempt {submodel.Attempt}");
        Assert.Contains($"resumed at step", File.ReadAllText(Path.Combine(layout.Root, "jobs", "submodel-0", $"attempt-{submodel.Attempt}", "worker.log")));
    }
}
