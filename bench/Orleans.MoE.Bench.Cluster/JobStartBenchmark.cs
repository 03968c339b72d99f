using System.Globalization;
using Orleans.MoE.Grains.Experiments;

namespace Orleans.MoE.Bench.Cluster;

/// <summary>
/// Job start latency on the two-silo cluster: from the coordinator's decision to ask for a job to
/// its worker's first training step, split into the cluster's share (reservation, the supervisor's
/// start of the process) and the worker's own (process start, libtorch, data and model, the first
/// step), which a job run by hand pays too. Measured on the training jobs of a small experiment.
/// </summary>
internal static class JobStartBenchmark
{
    public static async Task RunAsync(IClusterClient client, string artifacts)
    {
        var coordinator = client.GetGrain<IExperimentCoordinatorGrain>("bench-small");
        await coordinator.StartAsync(new ExperimentPlan { ExperimentId = "bench-small", ExperimentJson = BenchExperiments.Small, Directory = "bench-small" });
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        ExperimentStatus status;
        while (!(status = await coordinator.GetStatusAsync()).Phase.IsTerminal())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the experiment did not end: {status.Message}");
            await Task.Delay(200);
        }
        if (status.Phase != ExperimentPhase.Completed) throw new InvalidOperationException($"the experiment ended {status.Phase}: {status.Message}");

        var jobs = JobTimeline.Read(await coordinator.GetEventsAsync(0), Path.Combine(artifacts, "bench-small"))
            .Where(j => j.FirstStep is not null).ToList();
        Console.WriteLine("job start latency (seconds): decision -> worker started -> first step");
        Console.WriteLine("  job              cluster  worker   total");
        var cluster = new List<double>();
        var worker = new List<double>();
        foreach (var j in jobs)
        {
            var c = (j.Launched!.Value - j.AskedFor).TotalSeconds;
            var w = (j.FirstStep!.Value - j.Launched.Value).TotalSeconds;
            cluster.Add(c);
            worker.Add(w);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {j.Name,-15} {c,7:F3}  {w,6:F3}  {c + w,6:F3}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT name=job_start_latency median_s={Percentiles.Of(cluster.Zip(worker, (c, w) => c + w).ToList(), 0.5):F3} " +
            $"cluster_median_s={Percentiles.Of(cluster, 0.5):F3} worker_median_s={Percentiles.Of(worker, 0.5):F3} " +
            $"ratio={Percentiles.Of(cluster.Zip(worker, (c, w) => c + w).ToList(), 0.5) / Percentiles.Of(worker, 0.5):F3}"));
    }
}
