using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Embedded;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>Runs an experiment through the grains of an embedded cluster in the test process, with real worker processes.</summary>
internal static class EmbeddedExperiment
{
    /// <summary>`dotnet moe.dll`, built next to the tests.</summary>
    public static string WorkerCommand => $"dotnet {Path.Combine(AppContext.BaseDirectory, "moe.dll")}";

    public static readonly IReadOnlyList<DevicePool> Pools =
    [
        new DevicePool { Class = DisCoJobGraph.LowCost, DollarsPerHour = 0.35 },
        new DevicePool { Class = DisCoJobGraph.HighMemory, DollarsPerHour = 2.28 },
    ];

    /// <summary>
    /// Runs the experiment in <paramref name="directory"/> to its end, or until <paramref name="stopWhen"/>
    /// holds, when the cluster is stopped gracefully (its workers checkpoint) and null is returned.
    /// </summary>
    public static async Task<DisCoResults?> RunAsync(string experimentJson, string directory, Func<ExperimentStatus, bool>? stopWhen = null,
        TimeSpan? timeout = null)
    {
        await using var cluster = await EmbeddedCluster.StartAsync(new EmbeddedClusterOptions
        {
            ArtifactRoot = Path.GetDirectoryName(directory)!, StateDirectory = Path.Combine(directory, "cluster-state"), Pools = Pools,
            WorkerCommand = WorkerCommand,
        });
        var coordinator = cluster.Client.GetGrain<IExperimentCoordinatorGrain>(Path.GetFileName(directory));
        var status = await coordinator.StartAsync(new ExperimentPlan
        {
            ExperimentId = Path.GetFileName(directory), ExperimentJson = experimentJson, Directory = Path.GetFileName(directory),
        });
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(5));
        while (!status.Phase.IsTerminal())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the experiment did not end in time: {status.Phase}: {status.Message}");
            if (stopWhen?.Invoke(status) == true)
            {
                await cluster.StopAsync();
                return null;
            }
            await Task.Delay(100);
            status = await coordinator.GetStatusAsync();
        }
        Assert.True(status.Phase == ExperimentPhase.Completed, $"the experiment ended {status.Phase}: {status.Message}");
        var config = DisCoExperimentLoader.Parse(experimentJson);
        return DisCoResults.From(config, new DisCoLayout(directory), DisCoState.Open(new DisCoLayout(directory).State));
    }
}
