using System.Collections.Concurrent;
using Orleans.MoE.ParallelWorker;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Training.Tests.Parallel;

/// <summary>
/// The multi-process runs the parallel tests share, each launched once per test run and kept in memory:
/// the tiny models trained 3 steps with k = 2, 4, 8 single-process and at P = 1, 2, 4, and the Zipf
/// imbalance experiment at P = 4.
/// </summary>
internal static class ParallelRuns
{
    public const int Steps = 3;
    public static readonly int[] TopKs = [2, 4, 8];

    private static readonly ConcurrentDictionary<string, Lazy<object>> Cache = new();

    /// <summary>The whole model in one process: the reference.</summary>
    public static TrainingRunResult Single(string model) =>
        Training($"single {model}", 1, "--mode", "single", "--model", model, "--top-k", "2,4,8");

    public static TrainingRunResult Head(int worldSize) => Training($"head {worldSize}", worldSize, "--mode", "head", "--top-k", "2,4,8");

    public static TrainingRunResult Expert(int worldSize) => Training($"expert {worldSize}", worldSize, "--mode", "expert", "--top-k", "2,4,8");

    public static TrainingRunResult Data(int worldSize) => Training($"data {worldSize}", worldSize, "--mode", "data", "--top-k", "4");

    /// <summary>768 experts, k = 4, 2048 tokens per rank, skews 0, 1, 2.</summary>
    public static ZipfReport[] Zipf() => Get("zipf", () =>
    {
        var folder = WorkerProcesses.Run(4, "--mode", "zipf", "--experts", "768", "--top-k", "4", "--tokens", "2048", "--skews", "0,1,2");
        try
        {
            return Enumerable.Range(0, 4).Select(r => ReportFiles.Read<ZipfReport>(Path.Combine(folder, ZipfReport.FileName(r)))).ToArray();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    });

    private static TrainingRunResult Training(string key, int worldSize, params string[] arguments) => Get(key, () =>
    {
        var folder = WorkerProcesses.Run(worldSize, [.. arguments, "--steps", $"{Steps}"]);
        try
        {
            var byK = new Dictionary<int, TrainingRunResult.OneK>();
            foreach (var kFolder in Directory.GetDirectories(folder, "k*"))
            {
                var k = int.Parse(Path.GetFileName(kFolder)[1..]);
                var reports = Enumerable.Range(0, worldSize)
                    .Select(r => ReportFiles.Read<TrainingReport>(Path.Combine(kFolder, TrainingReport.FileName(r)))).ToArray();
                byK[k] = new TrainingRunResult.OneK(reports, LoadWhole(Path.Combine(kFolder, TrainingReport.TensorsFile)));
            }
            return new TrainingRunResult(worldSize, byK);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    });

    private static Dictionary<string, float[]> LoadWhole(string path)
    {
        using var scope = DisposeScope.Begin();
        var (tensors, _) = SafeTensors.Load(path);
        return tensors.Where(kv => kv.Value.Dtype == ScalarType.Float32).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());
    }

    private static T Get<T>(string key, Func<T> run) where T : class =>
        (T)Cache.GetOrAdd(key, _ => new Lazy<object>(() => run())).Value;
}

/// <summary>One launched training run: per k, every rank's report and rank 0's whole-model tensors.</summary>
internal sealed record TrainingRunResult(int WorldSize, IReadOnlyDictionary<int, TrainingRunResult.OneK> ByK)
{
    public sealed record OneK(TrainingReport[] Ranks, IReadOnlyDictionary<string, float[]> Whole);
}

/// <summary>The multi-process tests run one at a time: their ranks need the cores, and their timeouts must not see other tests' load.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MultiProcessCollection
{
    public const string Name = "multi-process runs";
}
