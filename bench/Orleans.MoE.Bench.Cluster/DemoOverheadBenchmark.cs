using System.Diagnostics;
using System.Globalization;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Embedded;

namespace Orleans.MoE.Bench.Cluster;

/// <summary>
/// The demo through the grains of an embedded cluster: its wall time against the critical path of
/// its jobs' own run times, i.e. what the same phases cost as library calls with no cluster around
/// them, scheduled on the same slots in the same order with no gaps. The difference is everything
/// the cluster adds: worker processes starting, grain calls, placement, reports.
/// </summary>
internal static class DemoOverheadBenchmark
{
    public static async Task RunAsync(string root)
    {
        var directory = Path.Combine(root, "disco-demo");
        DevicePool[] pools = [new() { Class = "low-cost", DollarsPerHour = 0.35 }, new() { Class = "high-memory", DollarsPerHour = 2.28 }];
        await using var cluster = await EmbeddedCluster.StartAsync(new EmbeddedClusterOptions
        {
            ArtifactRoot = root, StateDirectory = Path.Combine(directory, "cluster-state"), Pools = pools,
            WorkerCommand = $"dotnet {Path.Combine(AppContext.BaseDirectory, "moe.dll")}",
        });
        var coordinator = cluster.Client.GetGrain<IExperimentCoordinatorGrain>("disco-demo");
        var clock = Stopwatch.StartNew();
        await coordinator.StartAsync(new ExperimentPlan { ExperimentId = "disco-demo", ExperimentJson = BenchExperiments.Demo(), Directory = "disco-demo" });
        ExperimentStatus status;
        while (!(status = await coordinator.GetStatusAsync()).Phase.IsTerminal()) await Task.Delay(100);
        var wall = clock.Elapsed.TotalSeconds;
        if (status.Phase != ExperimentPhase.Completed) throw new InvalidOperationException($"the demo ended {status.Phase}: {status.Message}");

        var jobs = JobTimeline.Read(await coordinator.GetEventsAsync(0), directory);
        var critical = CriticalPath(jobs, status);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"demo through the grains: {wall:F1} s wall; critical path of its {jobs.Count} jobs' phase times on the same slots: {critical:F1} s; overhead {(wall / critical - 1) * 100:F1}%"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT name=demo_cluster_overhead wall_s={wall:F1} critical_path_s={critical:F1} ratio={wall / critical:F3} target=1.05"));
    }

    /// <summary>
    /// The makespan of the jobs' phase times with each device class's slots (one each here) taken in
    /// the order the cluster started the jobs, every job starting as soon as its inputs and a slot are free.
    /// </summary>
    private static double CriticalPath(IReadOnlyList<JobTimeline> jobs, ExperimentStatus status)
    {
        var graph = DisCoJobGraph.For(Training.DisCo.DisCoExperimentLoader.Parse(BenchExperiments.Demo())).ToDictionary(n => n.Name);
        var finish = new Dictionary<string, double>();
        var slotFree = new Dictionary<string, double>();
        foreach (var job in jobs.OrderBy(j => j.Launched ?? j.AskedFor))
        {
            var ready = graph[job.Name].DependsOn.Select(d => finish[d]).DefaultIfEmpty(0).Max();
            var start = Math.Max(ready, slotFree.GetValueOrDefault(job.DeviceClass));
            finish[job.Name] = start + job.PhaseSeconds;
            slotFree[job.DeviceClass] = finish[job.Name];
        }
        return finish.Values.Max();
    }
}
