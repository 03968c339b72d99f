using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// The experiment coordinator's state machine on an in-process cluster whose supervisors follow a
/// script: every transition in order, independent phases at the same time, cancel, waiting for a
/// silo, retries within the failure budget, a spent budget, and stale reports refused.
/// </summary>
public sealed class CoordinatorStateMachineTests
{
    private static readonly DevicePool LowCost = new() { Class = "low-cost", Devices = 2, DollarsPerHour = 0.35 };
    private static readonly DevicePool HighMemory = new() { Class = "high-memory", Devices = 1, DollarsPerHour = 2.28 };

    private static async Task<(GrainTestCluster Cluster, IExperimentCoordinatorGrain Coordinator)> StartAsync(
        IReadOnlyList<IReadOnlyList<DevicePool>> pools, Action<JobScript>? script = null, string extra = "", int silos = -1)
    {
        var cluster = await GrainTestCluster.StartAsync(pools, silos);
        script?.Invoke(cluster.Script);
        var coordinator = cluster.Client.GetGrain<IExperimentCoordinatorGrain>("exp");
        await coordinator.StartAsync(new ExperimentPlan
        {
            ExperimentId = "exp", ExperimentJson = TestExperiments.Tiny("/nonexistent/corpus.jsonl", extra), Directory = "exp",
        });
        return (cluster, coordinator);
    }

    private static Task<ExperimentStatus> UntilAsync(IExperimentCoordinatorGrain coordinator, Func<ExperimentStatus, bool> condition, string what) =>
        GrainTestCluster.EventuallyAsync(coordinator.GetStatusAsync, condition, what);

    [Fact]
    public async Task GoesThroughEveryPhaseInOrderAndRecordsEachJobsResult()
    {
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory]]);
        await using var _ = cluster;
        var status = await UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end");
        Assert.Equal(ExperimentPhase.Completed, status.Phase);

        var transitions = (await coordinator.GetEventsAsync(0)).Select(e => e.Text).Where(t => t.StartsWith("phase ", StringComparison.Ordinal)).ToList();
        Assert.Equal(
        [
            "phase Created -> Preparing", "phase Preparing -> Clustering", "phase Clustering -> Baseline", "phase Baseline -> TrainingSubmodels",
            "phase TrainingSubmodels -> Integrating", "phase Integrating -> FineTuning", "phase FineTuning -> Evaluating",
            "phase Evaluating -> Reporting", "phase Reporting -> Completed",
        ], transitions);

        // Each job ran once, on a silo of its class, and its result is in the experiment directory's state.json.
        var launches = cluster.Script.Launches.ToList();
        Assert.Equal(["prepare", "cluster", "baseline", "submodel-0", "submodel-1", "integrate", "fine_tune", "evaluate", "report"],
            launches.Select(l => l.Launch.Request.Name).Order(StringComparer.Ordinal).ToList().Order(Comparer<string>.Create((a, b) => Order(a).CompareTo(Order(b)))).ToList());
        foreach (var (launch, silo) in launches)
            Assert.Equal(launch.Request.DeviceClass == "low-cost" ? "Silo_0" : "Silo_1", silo);
        var state = Training.DisCo.DisCoState.Open(Path.Combine(cluster.Artifacts, "exp", "state.json"));
        Assert.Equal("submodel-1", (string?)state.Get("submodel-1")["scripted"]);
        Assert.Equal("low-cost", (string?)state.Get("submodel-1")["device"]!["class"]);
        Assert.Equal(2.28, (double)state.Get("fine_tune")["device"]!["dollars_per_hour"]!);
        Assert.All(status.Jobs, j => Assert.Equal(JobStatus.Succeeded, j.Status));
    }

    private static int Order(string job) => Array.IndexOf(["prepare", "cluster", "baseline", "submodel-0", "submodel-1", "integrate", "fine_tune", "evaluate", "report"], job);

    [Fact]
    public async Task TheBaselineAndTheSubmodelsRunAtTheSameTime()
    {
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory with { Devices = 2 }]],
            s => s.Decide = l => l.Request.Name is "baseline" or "submodel-0" or "submodel-1" ? ScriptedAction.Hold : ScriptedAction.Succeed);
        await using var _ = cluster;
        await GrainTestCluster.EventuallyAsync(() => Task.FromResult(cluster.Script.Held.Order().ToList()), h => h.Count == 3, "three held jobs");
        var status = await coordinator.GetStatusAsync();
        Assert.Equal(ExperimentPhase.TrainingSubmodels, status.Phase);
        Assert.Equal(["baseline", "submodel-0", "submodel-1"], status.Jobs.Where(j => j.Status == JobStatus.Running).Select(j => j.Name).Order().ToList());

        // The fine-tune needs the baseline's final loss: with the submodels done it still waits for it.
        cluster.Script.Release("submodel-0");
        cluster.Script.Release("submodel-1");
        await UntilAsync(coordinator, s => s.Jobs.Any(j => j.Name == "integrate" && j.Status == JobStatus.Succeeded), "the integration");
        await Task.Delay(300);
        Assert.DoesNotContain((await coordinator.GetStatusAsync()).Jobs, j => j.Name == "fine_tune");
        cluster.Script.Release("baseline");
        Assert.Equal(ExperimentPhase.Completed, (await UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end")).Phase);
    }

    [Fact]
    public async Task CancelStopsTheRunningJobsAndEndsTheExperimentCancelled()
    {
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory]],
            s => s.Decide = l => l.Request.Name.StartsWith("submodel", StringComparison.Ordinal) ? ScriptedAction.Hold : ScriptedAction.Succeed);
        await using var _ = cluster;
        await GrainTestCluster.EventuallyAsync(() => Task.FromResult(cluster.Script.Held.Count), n => n == 2, "two held submodels");
        await coordinator.CancelAsync("the test cancels");

        var status = await coordinator.GetStatusAsync();
        Assert.Equal(ExperimentPhase.Cancelled, status.Phase);
        Assert.Contains("the test cancels", status.Message);
        Assert.Equal(["exp/submodel-0", "exp/submodel-1"], cluster.Script.Stops.Select(s => s.JobKey).Order().ToList());
        var submodel = cluster.Client.GetGrain<IExpertSubmodelGrain>("exp/submodel-0");
        await GrainTestCluster.EventuallyAsync(submodel.GetViewAsync, v => v.Status == JobStatus.Cancelled, "the submodel cancelled");
        // The coordinator hears how the jobs it stopped ended: a cancelled experiment shows none running.
        await GrainTestCluster.EventuallyAsync(coordinator.GetStatusAsync, s => s.Jobs.All(j => j.Status.IsTerminal()), "no job of the cancelled experiment running");
        // Nothing after the submodels was asked for, and their slots are free again.
        Assert.DoesNotContain(cluster.Script.Launches, l => l.Launch.Request.Name == "integrate");
        var silos = await cluster.Client.GetGrain<ISlotLedgerGrain>(0).GetSilosAsync();
        Assert.All(silos, s => Assert.All(s.Busy, b => Assert.Equal(0, b)));
    }

    [Fact]
    public async Task AJobWaitsForASiloOfItsClassAndStartsWhenOneJoins()
    {
        // The high-memory silo leaves before the baseline is asked for; another one joins later.
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory]],
            s => s.Decide = l => l.Request.Name == "prepare" ? ScriptedAction.Hold : ScriptedAction.Succeed);
        await using var _ = cluster;
        await cluster.Cluster.StopSiloAsync(cluster.Cluster.Silos.Single(s => s.Name == "Silo_1"));
        cluster.Script.Release("prepare");
        var waiting = await UntilAsync(coordinator, s => s.Message.Contains("waiting for a silo of class high-memory with 1 free device"), "the waiting message");
        Assert.True(waiting.Phase is ExperimentPhase.TrainingSubmodels or ExperimentPhase.Integrating, $"{waiting.Phase}");   // the submodels run meanwhile
        Assert.Contains(waiting.Jobs, j => j.Name == "baseline" && j.Status == JobStatus.Waiting);

        await cluster.Cluster.StartAdditionalSiloAsync();   // named Silo_1 again, with the high-memory pool
        Assert.Equal(ExperimentPhase.Completed, (await UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end")).Phase);
    }

    [Fact]
    public async Task AFailedJobIsRetriedWithinItsBudget()
    {
        var failures = 0;
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory]],
            s => s.Decide = l => l.Request.Name == "submodel-1" && Interlocked.Increment(ref failures) <= 2 ? ScriptedAction.Fail : ScriptedAction.Succeed);
        await using var _ = cluster;
        var status = await UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end");
        Assert.Equal(ExperimentPhase.Completed, status.Phase);
        var submodel = status.Jobs.Single(j => j.Name == "submodel-1");
        Assert.Equal(3, submodel.Attempt);
        Assert.Equal(2, submodel.Failures);
        Assert.Equal([1, 2, 3], cluster.Script.Launches.Where(l => l.Launch.Request.Name == "submodel-1").Select(l => l.Launch.Attempt).ToList());
    }

    [Fact]
    public async Task ASpentFailureBudgetFailsTheExperimentSayingWhichJobFailedWhereAndWhy()
    {
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory]], s => s.Decide = l =>
        {
            if (l.Request.Name == "baseline") return ScriptedAction.Hold;
            if (l.Request.Name != "submodel-1") return ScriptedAction.Succeed;
            SpinWait.SpinUntil(() => s.Held.Contains("baseline"), TimeSpan.FromSeconds(10));   // fail while the baseline runs
            return ScriptedAction.Fail;
        });
        await using var _ = cluster;
        var status = await UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end");
        Assert.Equal(ExperimentPhase.Failed, status.Phase);
        Assert.Contains("job submodel-1 failed 4 times", status.Message);
        Assert.Contains("attempt 4 on silo Silo_0", status.Message);
        Assert.Contains("scripted failure", status.Message);
        Assert.Equal(4, cluster.Script.Launches.Count(l => l.Launch.Request.Name == "submodel-1"));   // max_failures 3: the first try and 3 retries
        // The baseline, still running, is stopped (just after the failure is recorded).
        await GrainTestCluster.EventuallyAsync(() => Task.FromResult(cluster.Script.Stops.Any(s => s.JobKey == "exp/baseline")), stopped => stopped, "the baseline stopped");
    }

    [Fact]
    public async Task AReportOfAnOlderAttemptIsRefused()
    {
        var failures = 0;
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory]],
            s => s.Decide = l => l.Request.Name == "submodel-0" ? (Interlocked.Increment(ref failures) == 1 ? ScriptedAction.Fail : ScriptedAction.Hold) : ScriptedAction.Succeed);
        await using var _ = cluster;
        var job = cluster.Client.GetGrain<IExpertSubmodelGrain>("exp/submodel-0");
        await GrainTestCluster.EventuallyAsync(job.GetViewAsync, v => v.Attempt == 2 && v.Status == JobStatus.Running, "attempt 2 running");

        // A zombie of attempt 1 reports success: refused, the job stays at attempt 2, running.
        await job.ReportAsync(new JobReport { JobKey = "exp/submodel-0", Attempt = 1, Kind = JobReportKind.Succeeded, ResultJson = "{}" });
        var view = await job.GetViewAsync();
        Assert.Equal((JobStatus.Running, 2), (view.Status, view.Attempt));
        Assert.Null(await job.GetOutcomeAsync());
        Assert.False(Training.DisCo.DisCoState.Open(Path.Combine(cluster.Artifacts, "exp", "state.json")).IsDone("submodel-0"));
        cluster.Script.Release("submodel-0");
        Assert.Equal(ExperimentPhase.Completed, (await UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end")).Phase);
    }

    [Fact]
    public async Task TheSamePlanAgainIsIdempotentAndAnotherPlanUnderTheSameIdIsRefused()
    {
        var (cluster, coordinator) = await StartAsync([[LowCost], [HighMemory]]);
        await using var _ = cluster;
        await UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end");
        var again = await coordinator.StartAsync(new ExperimentPlan
        {
            ExperimentId = "exp", ExperimentJson = TestExperiments.Tiny("/nonexistent/corpus.jsonl"), Directory = "exp",
        });
        Assert.Equal(ExperimentPhase.Completed, again.Phase);
        Assert.Equal(9, cluster.Script.Launches.Count);
        var e = await Assert.ThrowsAsync<ExperimentConflictException>(() => coordinator.StartAsync(new ExperimentPlan
        {
            ExperimentId = "exp", ExperimentJson = TestExperiments.Tiny("/other/corpus.jsonl"), Directory = "exp",
        }));
        Assert.Contains("already exists with another experiment file", e.Message);
    }
}
