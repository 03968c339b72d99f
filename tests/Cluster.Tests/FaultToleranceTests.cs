using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// Faults on a cluster of real processes (a real redis-server, silo processes, `kill -9`), with
/// membership tuned to declare a dead silo dead in seconds. Each disturbed experiment must end with
/// the undisturbed run's metrics, bit for bit.
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed class FaultToleranceTests(FaultExperiment experiment) : IClassFixture<FaultExperiment>, IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-fault-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
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
}
