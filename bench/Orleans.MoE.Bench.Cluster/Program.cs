using System.Runtime.InteropServices;
using Orleans.MoE.Bench.Cluster;

// Cluster benchmarks: grain call latency between two silo processes, job start latency, and the
// demo's overhead through the grains against the critical path of its jobs, and failover after a
// silo is killed (default against tuned membership options).
// Usage: dotnet run -c Release --project bench/Orleans.MoE.Bench.Cluster -- [latency|jobstart|demo|failover|spans|all]
//        (failover: [--checkpoint-every N] [--bound SECONDS] [--freeze] [--only tuned|default] [--set NAME=VALUE]...)
//        (and `silo ...`: this program as one of the benchmark's silos; the benchmark starts them)
if (args.Length > 0 && args[0] == "silo")
{
    await BenchSilo.RunAsync(args[1..]);
    return 0;
}
var which = args.Length > 0 ? args[0] : "all";
var root = Path.Combine(Path.GetTempPath(), "moe-bench-cluster-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(root);
// Ctrl-C, SIGTERM, SIGHUP end the program without running finally blocks: stop redis-server and the silos (with their workers) first.
void Stop(PosixSignalContext context)
{
    ChildProcess.KillAll();
    try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    context.Cancel = true;
    Environment.Exit(128 + context.Signal switch { PosixSignal.SIGINT => 2, PosixSignal.SIGTERM => 15, _ => 1 });
}
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
try
{
    if (which is "latency" or "jobstart" or "all")
    {
        var artifacts = Path.Combine(root, "artifacts");
        using var redis = new RedisServer();
        using var a = new SiloProcess("a", redis.ConnectionString, artifacts, [], BenchSilo.Pool("high-memory", 2.28, devices: 1), BenchSilo.Command);
        using var b = new SiloProcess("b", redis.ConnectionString, artifacts, [], BenchSilo.Pool("low-cost", 0.35, devices: 2), BenchSilo.Command);   // no job of the small experiment waits for a slot
        await using var client = await ClusterClient.ConnectAsync(redis.ConnectionString);
        await client.WaitForSilosAsync("a", "b");
        if (which is "latency" or "all") await GrainLatencyBenchmark.RunAsync(client.Client);
        if (which is "jobstart" or "all") await JobStartBenchmark.RunAsync(client.Client, artifacts);
    }
    if (which is "demo" or "all") await DemoOverheadBenchmark.RunAsync(root);
    if (which is "failover" or "all") await FailoverBenchmark.RunAsync(root, args[1..]);
    if (which is "spans" or "all") StepSpanBenchmark.Run(root);
    return 0;
}
finally
{
    Directory.Delete(root, recursive: true);
}
