using System.Diagnostics;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.DisCo;
using Orleans.MoE.Training.Runs;
using Xunit.Abstractions;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// A soak: silos of a real cluster killed (SIGKILL) at random, one after another, while one small
/// experiment runs; each class keeps a live silo (a replacement joins after every kill, as an
/// autoscaler would start one). The experiment must end with the undisturbed run's metrics and
/// every checkpoint left on disk must verify.
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed class SoakTests(SoakTests.LongerExperiment experiment, ITestOutputHelper output) : IClassFixture<SoakTests.LongerExperiment>, IDisposable
{
    private const int Kills = 10;
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(8);
    private static readonly Dictionary<string, string> Pools = new()
    {
        ["high-memory"] = "class=high-memory,devices=2,price=2.28",
        ["low-cost"] = "class=low-cost,devices=1,price=0.35",
    };

    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-soak-" + Guid.NewGuid().ToString("N"));

    /// <summary>The fault tests' experiment with training phases long enough that all the kills land before it ends, also on an idle machine.</summary>
    public sealed class LongerExperiment() : FaultExperiment(steps: 1000, fineTuneSteps: 200);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task TenRandomSiloKillsDuringOneExperimentLeaveItsMetricsAndCheckpointsIntact()
    {
        var clock = Stopwatch.StartNew();
        var live = new Dictionary<string, string> { ["hm-1"] = "high-memory", ["hm-2"] = "high-memory", ["lc-1"] = "low-cost", ["lc-2"] = "low-cost" };
        await using var cluster = await ProcessCluster.StartAsync(_root, null, live.Select(s => (s.Key, Pools[s.Value])).ToArray());
        var coordinator = cluster.Submit("soak", experiment.Json);
        var random = new Random(7);
        var kills = new List<string>();
        var started = live.Count;

        // Bounded: at most Kills kills, all within the budget. Each kill comes with a replacement of its
        // class, and the next one waits until that has joined: a class never loses its last live silo.
        while (kills.Count < Kills && clock.Elapsed < Budget)
        {
            await Task.Delay(TimeSpan.FromSeconds(0.5 + random.NextDouble()));
            await cluster.WaitForSilosAsync([.. live.Keys]);
            var status = await ProcessCluster.UntilAsync(coordinator, _ => true, "the status", TimeSpan.FromSeconds(60));
            if (status.Phase.IsTerminal()) break;
            // Any live silo: one running jobs, or one hosting the coordinator or the ledger.
            var victim = live.Keys.OrderBy(name => name, StringComparer.Ordinal).ElementAt(random.Next(live.Count));
            var deviceClass = live[victim];
            var replacement = $"{(deviceClass == "high-memory" ? "hm" : "lc")}-{++started}";
            cluster.StartSilo(replacement, Pools[deviceClass]);
            live[replacement] = deviceClass;
            cluster.Kill(victim);
            live.Remove(victim);
            kills.Add($"{victim} at {clock.Elapsed.TotalSeconds:F0} s ({status.Phase}: {status.Message})");
        }

        var end = await ProcessCluster.UntilAsync(coordinator, s => s.Phase.IsTerminal(), "the end", Budget - clock.Elapsed + TimeSpan.FromMinutes(1));
        output.WriteLine($"soak: {kills.Count} kills in {clock.Elapsed.TotalSeconds:F0} s");
        foreach (var kill in kills) output.WriteLine($"  killed {kill}");
        Assert.True(end.Phase == ExperimentPhase.Completed, end.Message);
        Assert.True(kills.Count == Kills, $"the experiment ended after {kills.Count} of {Kills} kills; it is too short for the soak");
        experiment.AssertSameMetrics(cluster.ExperimentDirectory("soak"));
        AssertEveryCheckpointVerifies(new DisCoLayout(cluster.ExperimentDirectory("soak")));
    }

    /// <summary>No checkpoint was lost or written half: each one left verifies, and none was set aside as damaged.</summary>
    private static void AssertEveryCheckpointVerifies(DisCoLayout layout)
    {
        foreach (var run in new[] { layout.Baseline, layout.Submodel(0), layout.Submodel(1), layout.FineTune })
        {
            var store = new CheckpointStore(TrainingJob.CheckpointDirectoryOf(run));
            Assert.NotEmpty(store.Steps());
            foreach (var step in store.Steps()) store.ReadManifest(step);   // throws on a missing or damaged file
            Assert.Empty(Directory.EnumerateFileSystemEntries(store.Root, "*" + CheckpointStore.DamagedSuffix + "*"));
        }
    }
}
