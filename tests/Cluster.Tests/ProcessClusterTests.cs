using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// The cluster as users run it: a real redis-server on a free loopback port, silo processes that
/// each declare their pools, and `moe run --cluster`. Everything binds and advertises 127.0.0.1,
/// and every process is stopped at the end, also when the test fails.
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed class ProcessClusterTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-processes-" + Guid.NewGuid().ToString("N"));
    private readonly List<IDisposable> _processes = [];

    public ProcessClusterTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        foreach (var p in Enumerable.Reverse(_processes)) p.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private T Started<T>(T process) where T : IDisposable
    {
        _processes.Add(process);
        return process;
    }

    [Fact]
    public async Task AnExperimentOnThreeSiloProcessesEndsWithTheEmbeddedRunsMetrics()
    {
        // Enough documents for two data shards (blocks of 256 training documents): the cluster runs
        // the clustering as two DataShard jobs, the embedded run as one job, with the same result.
        var corpus = TestExperiments.WriteCorpus(Path.Combine(_root, "data"), pairs: 200);
        var experiment = Path.Combine(_root, "tiny.json");
        await File.WriteAllTextAsync(experiment, TestExperiments.Tiny(corpus).Replace("\"restarts\": 2, \"seed\": 1 }", "\"restarts\": 2, \"seed\": 1, \"shards\": 2 }"));
        Assert.Contains("\"shards\": 2", await File.ReadAllTextAsync(experiment));

        var redis = Started(new RedisServer());
        var artifacts = Path.Combine(_root, "artifacts");
        Started(new SiloProcess("big", redis.ConnectionString, artifacts, ["class=high-memory,devices=1,price=2.28"]));
        Started(new SiloProcess("small-a", redis.ConnectionString, artifacts, ["class=low-cost,devices=1,price=0.35"]));
        Started(new SiloProcess("small-b", redis.ConnectionString, artifacts, ["class=low-cost,devices=1,price=0.35"]));
        await using (var client = await ClusterClient.ConnectAsync(redis.ConnectionString))
            await client.WaitForSilosAsync("big", "small-a", "small-b");

        var run = Started(ChildProcess.Moe(["run", experiment, "--cluster", redis.ConnectionString, "--id", "happy"]));
        Assert.True(run.WaitForExit(TimeSpan.FromMinutes(5)) == 0, run.Output);
        Assert.Contains("report: experiments/happy/report/report.html", run.Output);

        var embedded = Path.Combine(_root, "embedded", "tiny");
        await EmbeddedExperiment.RunAsync(TestExperiments.Tiny(corpus), embedded);
        var onCluster = DisCoState.Open(new DisCoLayout(Path.Combine(artifacts, "experiments", "happy")).State);
        var local = DisCoState.Open(new DisCoLayout(embedded).State);
        foreach (var phase in new[] { "baseline", "submodel-0", "submodel-1", "fine_tune" })
        {
            Assert.Equal((long)local.Get(phase)["steps"]!, (long)onCluster.Get(phase)["steps"]!);
            Assert.Equal((double)local.Get(phase)["final_loss"]!, (double)onCluster.Get(phase)["final_loss"]!);   // bit-identical: one thread per job on both
            Assert.Equal((double?)local.Get(phase)["held_out_loss"], (double?)onCluster.Get(phase)["held_out_loss"]);
        }
        Assert.Equal((double)local.Get("evaluate")["disco"]!["held_out_loss"]!, (double)onCluster.Get("evaluate")["disco"]!["held_out_loss"]!);
        // The two data shards ran on the two low-cost silos and wrote the clusters one job writes, byte for byte.
        Assert.Equal("small-a+small-b", (string?)onCluster.Get("cluster")["device"]!["silo"]);
        var clusters = new DisCoLayout(Path.Combine(artifacts, "experiments", "happy")).Clusters;
        foreach (var file in Directory.GetFiles(new DisCoLayout(embedded).Clusters).Select(Path.GetFileName).Where(f => f!.StartsWith("cluster-") || f == "assignments.jsonl"))
            Assert.True(File.ReadAllBytes(Path.Combine(new DisCoLayout(embedded).Clusters, file!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(clusters, file!))), $"{file} differs");
        // The submodels ran on the low-cost silos, the rest of the training on the high-memory one.
        Assert.StartsWith("small-", (string?)onCluster.Get("submodel-0")["device"]!["silo"]);
        Assert.Equal("big", (string?)onCluster.Get("fine_tune")["device"]!["silo"]);

        // One trace for each run, across the silo processes and their workers (the embedded one all in this process and its workers).
        // On the cluster the clustering is its two data shards' jobs, each a rank of the group's first attempt.
        string[] jobs = ["prepare", "cluster", "baseline", "submodel-0", "submodel-1", "fine_tune", "evaluate"];
        string[] jobsOnCluster = ["cluster-a1-r0", "cluster-a1-r1", .. jobs.Where(j => j != "cluster")];
        var trace = ExperimentTraceAssertions.OneConnectedTrace(Path.Combine(artifacts, "experiments", "happy"), jobsOnCluster);
        // One file per process: every worker wrote its own.
        Assert.True(Directory.GetFiles(Path.Combine(artifacts, "experiments", "happy", "traces"), "moe-worker-*.jsonl").Length >= jobsOnCluster.Length);
        Assert.All(trace.Spans.Where(s => s.Name.StartsWith("job submodel-", StringComparison.Ordinal)), s => Assert.StartsWith("small-", s.Attributes["moe.silo"]));
        Assert.All(trace.Spans.Where(s => s.Name == "job fine_tune"), s => Assert.Equal("big", s.Attributes["moe.silo"]));
        ExperimentTraceAssertions.OneConnectedTrace(embedded, jobs);
    }

    [Fact]
    public void AMalformedExperimentIsRejectedBeforeAnythingStartsWithEveryProblemListed()
    {
        var experiment = Path.Combine(_root, "bad.json");
        File.WriteAllText(experiment, TestExperiments.Tiny("/nowhere.jsonl").Replace("\"steps\": 6", "\"steps\": -6").Replace("\"top_k\": 2", "\"top_k\": 9"));
        // No server behind this address: the file is refused before any connection is tried.
        var run = Started(ChildProcess.Moe(["run", experiment, "--cluster", $"127.0.0.1:{FreePorts.Next()}"], workingDirectory: _root));
        Assert.Equal(2, run.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Contains("submodels.steps", run.Output);
        Assert.Contains("model.layers.ffn.moe.top_k", run.Output);
        var embedded = Started(ChildProcess.Moe(["run", experiment], workingDirectory: _root));
        Assert.Equal(2, embedded.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.False(Directory.Exists(Path.Combine(_root, "runs")), "the embedded cluster started anyway");
    }

    [Fact]
    public void ASiloWithMalformedMetadataRefusesToStartNamingTheKey()
    {
        var silo = Started(ChildProcess.Moe(["silo", "--cluster", $"127.0.0.1:{FreePorts.Next()}", "--artifacts", _root],
            new Dictionary<string, string> { ["Orleans__Metadata__pool0_class"] = "low-cost", ["Orleans__Metadata__pool0_devices"] = "two" }));
        Assert.Equal(2, silo.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Contains("pool0_devices: 'two' is not valid; it must be a whole number of at least 1", silo.Output);
    }
}
