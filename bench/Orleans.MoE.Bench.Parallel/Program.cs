using Orleans.MoE.Bench.Parallel;

// Step time of Multi-Head LatentMoE with head parallelism against MoE with expert parallelism, P ranks
// as P processes, over loopback and over rate-limited links between network namespaces. Figures are
// printed, never asserted; see bench/README.md. With rank arguments (--rank ...) this program is one
// rank, started by the coordinator.

if (RankOptions.IsRankInvocation(args))
{
    try
    {
        return RankWorker.Run(RankOptions.Parse(args));
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"rank failed: {e.GetType().Name}: {e.Message}");
        return 1;
    }
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

using var benchmark = new ParallelBenchmark(options, Console.Out);
return benchmark.Run();
