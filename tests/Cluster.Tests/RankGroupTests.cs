using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// A fine-tune of several ranks on an in-process cluster with scripted supervisors: gang placement
/// on distinct silos (all or none), one rendezvous, a failed rank restarting the whole group, and an
/// elastic restart at a smaller world size when a silo is gone.
/// </summary>
public sealed class RankGroupTests
{
    private static readonly DevicePool LowCost = new() { Class = "low-cost", Devices = 2, DollarsPerHour = 0.35 };
    private static readonly DevicePool HighMemory = new() { Class = "high-memory", Devices = 1, DollarsPerHour = 2.28 };

    private static string Experiment(bool elastic = false) =>
        TestExperiments.Tiny("/nonexistent/corpus.jsonl", $$""" "cluster": { "fine_tune_ranks": 2, "elastic": {{(elastic ? "true" : "false")}} },""");

    private static async Task<(GrainTestCluster, IExperimentCoordinatorGrain)> StartAsync(IReadOnlyList<IReadOnlyList<DevicePool>> pools,
        Func<JobLaunch, ScriptedAction> decide, bool elastic = false)
    {
        var cluster = await GrainTestCluster.StartAsync(pools);
        cluster.Script.Decide = decide;
        var coordinator = cluster.Client.GetGrain<IExperimentCoordinatorGrain>("exp");
        await coordinator.StartAsync(new ExperimentPlan { ExperimentId = "exp", ExperimentJson = Experiment(elastic), Directory = "exp" });
        return (cluster, coordinator);
    }

    private static List<JobLaunch> Ranks(GrainTestCluster cluster, int attempt) =>
        cluster.Script.Launches.Select(l => l.Launch).Where(l => l.Request.Name.StartsWith($"fine_tune-a{attempt}-r", StringComparison.Ordinal))
            .OrderBy(l => l.Request.Name, StringComparer.Ordinal).ToList();

    [Fact]
    public async Task TheRanksAreGangPlacedOnDistinctSilosWithOneRendezvousOnRankZerosSilo()
    {
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory], [HighMemory with { DollarsPerHour = 3 }]], _ => ScriptedAction.Succeed);
        await using var _ = cluster;
        var status = await GrainTestCluster.EventuallyAsync(coordinator.GetStatusAsync, s => s.Phase.IsTerminal(), "the end");
        Assert.Equal(ExperimentPhase.Completed, status.Phase);

        var ranks = Ranks(cluster, 1);
        Assert.Equal(2, ranks.Count);
        Assert.Equal(["0", "1"], ranks.Select(r => r.Request.Arguments[WorkerArguments.Rank]).ToList());
        Assert.All(ranks, r => Assert.Equal("2", r.Request.Arguments[WorkerArguments.WorldSize]));
        Assert.Single(ranks.Select(r => r.Request.Arguments[WorkerArguments.Rendezvous]).Distinct());
        Assert.StartsWith(ranks[0].Slot.Host + ":", ranks[0].Request.Arguments[WorkerArguments.Rendezvous]);
        Assert.Equal(2, ranks.Select(r => r.Slot.Silo).Distinct().Count());
        Assert.Equal(2.28, ranks[0].Slot.Pool.DollarsPerHour);   // the cheaper silo is rank 0
        Assert.Contains("+", status.Jobs.Single(j => j.Name == "fine_tune").Silo);
    }

    [Fact]
    public async Task AGroupThatDoesNotFitWaitsWithoutStartingAnyRank()
    {
        // One high-memory silo with two devices is not two distinct silos.
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory with { Devices = 2 }]], _ => ScriptedAction.Succeed);
        await using var _ = cluster;
        var status = await GrainTestCluster.EventuallyAsync(coordinator.GetStatusAsync,
            s => s.Jobs.Any(j => j.Name == "fine_tune" && j.Status == JobStatus.Waiting), "the fine-tune waiting");
        Assert.Contains("fine_tune: waiting for 2 distinct silos of class high-memory with a free device each (1 now)", status.Message);
        Assert.Empty(Ranks(cluster, 1));
    }

    [Fact]
    public async Task AFailedRankStopsItsGroupWhichRestartsAsAWholeCountingOneFailure()
    {
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory], [HighMemory]], l => l.Request.Name switch
        {
            "fine_tune-a1-r1" => ScriptedAction.Fail,
            "fine_tune-a1-r0" => ScriptedAction.Hold,   // still training when its partner dies
            _ => ScriptedAction.Succeed,
        });
        await using var _ = cluster;
        var status = await GrainTestCluster.EventuallyAsync(coordinator.GetStatusAsync, s => s.Phase.IsTerminal(), "the end");
        Assert.Equal(ExperimentPhase.Completed, status.Phase);
        Assert.Contains(cluster.Script.Stops, s => s.JobKey == "exp/fine_tune-a1-r0");   // the survivor was stopped
        Assert.Equal(2, Ranks(cluster, 2).Count);                                          // and the whole group ran again
        var fineTune = status.Jobs.Single(j => j.Name == "fine_tune");
        Assert.Equal((2, 1), (fineTune.Attempt, fineTune.Failures));
    }

    [Fact]
    public async Task AnElasticGroupWhoseSiloLeftRestartsAtTheLargestWorldSizeThatFits()
    {
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory], [HighMemory]],
            l => l.Request.Name.StartsWith("fine_tune-a1", StringComparison.Ordinal) ? ScriptedAction.Hold : ScriptedAction.Succeed, elastic: true);
        await using var _ = cluster;
        await GrainTestCluster.EventuallyAsync(() => Task.FromResult(Ranks(cluster, 1).Count), n => n == 2, "two ranks running");
        var rankOneSilo = Ranks(cluster, 1)[1].Slot.SiloName;
        await cluster.Cluster.StopSiloAsync(cluster.Cluster.Silos.Single(s => s.Name == rankOneSilo));

        var status = await GrainTestCluster.EventuallyAsync(coordinator.GetStatusAsync, s => s.Phase.IsTerminal(), "the end", TimeSpan.FromSeconds(60));
        Assert.Equal(ExperimentPhase.Completed, status.Phase);
        var second = Ranks(cluster, 2);
        Assert.Single(second);   // P = 1 fits the one high-memory silo left
        Assert.Equal("1", second[0].Request.Arguments[WorkerArguments.WorldSize]);
    }
}
