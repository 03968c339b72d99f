using System.Globalization;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// Grain storage that loses its data, on an in-process cluster whose state lives in files (deleting
/// them is what emptying Redis is to a real cluster): grains that are running write their state again
/// from memory, and job owners whose state is new number their attempts above those the experiment
/// directory records. The real-process versions are in <see cref="RedisLossTests"/>.
/// </summary>
public sealed class StorageLossTests
{
    private static readonly DevicePool LowCost = new() { Class = "low-cost", Devices = 2, DollarsPerHour = 0.35 };
    private static readonly DevicePool HighMemory = new() { Class = "high-memory", Devices = 1, DollarsPerHour = 2.28 };

    private static async Task<IExperimentCoordinatorGrain> SubmitAsync(GrainTestCluster cluster, string extra = "")
    {
        var coordinator = cluster.Client.GetGrain<IExperimentCoordinatorGrain>("exp");
        await coordinator.StartAsync(new ExperimentPlan
        {
            ExperimentId = "exp", ExperimentJson = TestExperiments.Tiny("/nonexistent/corpus.jsonl", extra), Directory = "exp",
        });
        return coordinator;
    }

    [Fact]
    public async Task StateDeletedUnderRunningGrainsIsWrittenAgainAndNoJobRunsTwice()
    {
        await using var cluster = await GrainTestCluster.StartAsync([[LowCost], [HighMemory]]);
        cluster.Script.Decide = l => l.Request.Name == "submodel-0" ? ScriptedAction.Hold : ScriptedAction.Succeed;
        var coordinator = await SubmitAsync(cluster);
        await GrainTestCluster.EventuallyAsync(() => Task.FromResult(cluster.Script.Held.ToList()), h => h.Contains("submodel-0"), "submodel-0 held");
        var state = Path.Combine(cluster.Artifacts, "state");
        DeleteWhileWritten(state);   // every grain's record is gone, as after FLUSHALL
        cluster.Script.Release("submodel-0");

        var status = await GrainTestCluster.EventuallyAsync(coordinator.GetStatusAsync, s => s.Phase.IsTerminal(), "the end");
        Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
        Assert.All(status.Jobs, j => Assert.True(j.Failures == 0 && j.Attempt == 1, $"{j.Name}: attempt {j.Attempt}, {j.Failures} failures"));
        // Each job ran once: none was started again by an owner that came back with empty state.
        var launches = cluster.Script.Launches.Select(l => l.Launch.Request.Name).ToList();
        Assert.Equal(launches.Distinct().Count(), launches.Count);
        Assert.Equal(9, launches.Count);
        var events = (await coordinator.GetEventsAsync(0)).Select(e => e.Text).ToList();
        Assert.Contains(events, e => e.StartsWith("Redis lost its data", StringComparison.Ordinal) && e.Contains("submit it again"));
        Assert.All(status.Jobs, j => Assert.Single(events, e => e.StartsWith($"{j.Name}: done on", StringComparison.Ordinal)));
        // The records exist again: a coordinator activated now would know the experiment.
        Assert.True(Directory.Exists(state) && Directory.EnumerateFiles(state, "*", SearchOption.AllDirectories).Any(), "no state was written again");
    }

    /// <summary>Deletes a directory that running grains may be writing into (a file created mid-way makes one pass fail); bounded.</summary>
    private static void DeleteWhileWritten(string directory)
    {
        for (var pass = 1; ; pass++)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
                return;
            }
            catch (IOException) when (pass < 20)
            {
                Thread.Sleep(50);
            }
        }
    }

    [Fact]
    public async Task AJobOwnerWithNewStateNumbersItsAttemptsAboveThoseItsExperimentDirectoryRecords()
    {
        await using var cluster = await GrainTestCluster.StartAsync([[LowCost], [HighMemory], [HighMemory]]);
        cluster.Script.Decide = l => l.Request.Name == "prepare" ? ScriptedAction.Hold : ScriptedAction.Succeed;
        var coordinator = await SubmitAsync(cluster, """ "cluster": { "fine_tune_ranks": 2 },""");
        await GrainTestCluster.EventuallyAsync(() => Task.FromResult(cluster.Script.Held.ToList()), h => h.Contains("prepare"), "prepare held");
        // What attempts of an earlier cluster left in the experiment directory (its grain state since lost).
        var jobs = Path.Combine(cluster.Artifacts, "exp", "jobs");
        Directory.CreateDirectory(Path.Combine(jobs, "submodel-0", "attempt-4"));
        Directory.CreateDirectory(Path.Combine(jobs, "submodel-0", "attempt-notes"));   // not an attempt: ignored
        Directory.CreateDirectory(Path.Combine(jobs, "fine_tune-a2-r1", "attempt-1"));
        cluster.Script.Release("prepare");

        var status = await GrainTestCluster.EventuallyAsync(coordinator.GetStatusAsync, s => s.Phase.IsTerminal(), "the end");
        Assert.True(status.Phase == ExperimentPhase.Completed, status.Message);
        var launches = cluster.Script.Launches.Select(l => l.Launch).ToList();
        Assert.Equal(5, launches.Single(l => l.Request.Name == "submodel-0").Attempt);   // above attempt-4: past any fence it claimed
        Assert.Equal(1, launches.Single(l => l.Request.Name == "submodel-1").Attempt);   // nothing recorded: from 1
        var ranks = launches.Where(l => l.Request.Name.StartsWith("fine_tune-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["fine_tune-a3-r0", "fine_tune-a3-r1"], ranks.Select(r => r.Request.Name).Order(StringComparer.Ordinal).ToList());
        Assert.All(ranks, r => Assert.Equal(3, int.Parse(r.Request.Arguments[WorkerArguments.GroupAttempt], CultureInfo.InvariantCulture)));
        Assert.All(status.Jobs, j => Assert.Equal(0, j.Failures));
    }
}
