using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Client.Tests;

/// <summary>`moe train` as several processes: the local launcher, and a rank killed in the middle of a run.</summary>
public sealed class MultiProcessTrainingTests : IDisposable
{
    private const int Vocab = 64;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-ranks-" + Guid.NewGuid().ToString("N"));

    public MultiProcessTrainingTests()
    {
        var random = new Random(3);
        TokenShardWriter.Write(Path.Combine(_root, "train.tokens"), Vocab,
            Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, 200).Select(_ => random.Next(Vocab)).ToArray()));
        File.WriteAllText(Path.Combine(_root, "model.json"), """
            { "vocab_size": 64, "d_model": 32, "num_layers": 2, "max_seq_len": 16, "attention": { "num_heads": 2 },
              "layers": { "first_dense": 1, "dense": { "hidden_dim": 64 },
                "ffn": { "kind": "multi_head_latent_moe", "moe": { "num_experts": 4, "top_k": 2, "expert_dim": 16 }, "heads": { "num_heads": 4 } } },
              "init": { "seed": 1 } }
            """);
    }

    private string TrainingFile(int steps, int batchSize)
    {
        var path = Path.Combine(_root, $"training-{steps}-{batchSize}.json");
        File.WriteAllText(path, $$"""
            { "batch_size": {{batchSize}}, "context_length": 16, "steps": {{steps}}, "schedule": { "kind": "constant" },
              "optimizer": { "lr": 1e-3 }, "seed": 1 }
            """);
        return path;
    }

    private string[] TrainArguments(string run, int steps, int batchSize = 4) =>
        ["train", "--model", Path.Combine(_root, "model.json"), "--training", TrainingFile(steps, batchSize),
         "--data", Path.Combine(_root, "train.tokens"), "--run-dir", Path.Combine(_root, run)];

    private List<JsonObject> TrainLines(string run)
    {
        var path = Path.Combine(_root, run, "metrics.jsonl");
        if (!File.Exists(path)) return [];
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var lines = new List<JsonObject>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && JsonNode.Parse(line) is JsonObject o && (string?)o["event"] == "train") lines.Add(o);
        }
        return lines;
    }

    [Fact]
    public void TheLocalLauncherRunsEveryRankAndForwardsTheirOutput()
    {
        using var launcher = new MoeProcess([.. TrainArguments("launched", steps: 3), "--local-ranks", "2"]);
        Assert.True(launcher.WaitForExit(TimeSpan.FromMinutes(2)), "the launcher did not finish");
        Assert.True(launcher.Process.ExitCode == 0, launcher.Output + launcher.Error);
        Assert.Contains("[rank 0] 2 ranks, head parallel", launcher.Output);
        var lines = TrainLines("launched");
        Assert.Equal([1L, 2L, 3L], lines.Select(l => (long)l["step"]!));
        // Head parallel traffic of the MoE layer (layer 1): equal on both ranks.
        var dispatch = lines[0]["communication"]!.AsArray().Where(c => (int?)c!["layer"] == 1 && (string)c["collective"]! == "dispatch")
            .Select(c => (long)c!["bytes_sent"]!).ToList();
        Assert.Equal(2, dispatch.Count);
        Assert.Equal(dispatch[0], dispatch[1]);
    }

    [Fact]
    public void KillingOneRankStopsTheOthersWithAnErrorNamingItAndTheStep()
    {
        var port = RendezvousAddress.FreeLocalPort();
        var ranks = Enumerable.Range(0, 3).Select(rank => new MoeProcess([.. TrainArguments("killed", steps: 100000, batchSize: 6),
            "--world-size", "3", "--rank", $"{rank}", "--rendezvous", $"127.0.0.1:{port}", "--timeout", "20", "--threads", "1", "--parallel", "data"])).ToArray();
        try
        {
            var wait = Stopwatch.StartNew();
            while (TrainLines("killed").Count < 2)
            {
                Assert.True(wait.Elapsed < TimeSpan.FromMinutes(2) && !ranks[0].Process.HasExited, "the run did not start: " + ranks[0].Output + ranks[0].Error);
                Thread.Sleep(100);
            }
            ranks[2].Process.Kill();
            var killedAt = Stopwatch.StartNew();
            foreach (var survivor in ranks.Take(2))
                Assert.True(survivor.WaitForExit(TimeSpan.FromSeconds(60)), "a surviving rank hangs: " + survivor.Output + survivor.Error);
            Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(40), $"the survivors took {killedAt.Elapsed} to stop");
            foreach (var survivor in ranks.Take(2))
            {
                Assert.Equal(1, survivor.Process.ExitCode);
                Assert.Contains("rank 2 failed", survivor.Error);
                Assert.Matches(@"training stopped at step \d+", survivor.Error);
            }
        }
        finally
        {
            foreach (var r in ranks) r.Dispose();
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
