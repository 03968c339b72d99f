using System.Text.Json.Nodes;
using Orleans.MoE.Training.DisCo;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.Tests;

/// <summary>The whole MoE-DisCo pipeline on a tiny two-domain corpus: artifacts, report, resume after interruption.</summary>
public sealed class DisCoPipelineTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-disco-" + Guid.NewGuid().ToString("N"));

    public DisCoPipelineTests()
    {
        Directory.CreateDirectory(_root);
        var random = new Random(5);
        using var corpus = new StreamWriter(Path.Combine(_root, "corpus.jsonl"));
        string[] words = ["alpha", "beta", "gamma", "delta", "omega"];
        for (var i = 0; i < 60; i++)
        {
            // Two domains that a byte-level model tells apart easily: words and numbers.
            var prose = string.Join(" ", Enumerable.Range(0, 40).Select(_ => words[random.Next(words.Length)]));
            var numbers = string.Join(",", Enumerable.Range(0, 40).Select(_ => random.Next(1000)));
            corpus.WriteLine(new JsonObject { ["text"] = prose, ["domain"] = "prose" }.ToJsonString());
            corpus.WriteLine(new JsonObject { ["text"] = numbers, ["domain"] = "numbers" }.ToJsonString());
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private string Experiment() => $$"""
        {
          "name": "tiny",
          "model": {
            "vocab_size": 320, "d_model": 16, "num_layers": 2, "max_seq_len": 16,
            "attention": { "num_heads": 2 },
            "layers": { "first_dense": 1, "dense": { "hidden_dim": 32 },
                        "ffn": { "kind": "moe", "moe": { "num_experts": 2, "top_k": 2, "expert_dim": 16 } } },
            "init": { "seed": 3 }
          },
          "data": { "paths": [ "{{Path.Combine(_root, "corpus.jsonl")}}" ], "validation_fraction": 0.2, "seed": 1 },
          "clustering": { "method": "kmeans", "restarts": 2, "seed": 1 },
          "submodels": { "batch_size": 4, "context_length": 16, "steps": 6, "schedule": { "kind": "constant" },
                         "optimizer": { "lr": 3e-3 }, "eval": { "every": 3, "batches": 2 }, "checkpoint": { "every": 2, "keep": 1 }, "seed": 1, "threads": 1 },
          "integration": { "averaging": "weighted_by_tokens" },
          "fine_tune": { "batch_size": 4, "context_length": 16, "steps": 8, "schedule": { "kind": "cosine", "warmup_steps": 1 },
                         "optimizer": { "lr": 3e-3 }, "eval": { "every": 4, "batches": 2 }, "checkpoint": { "every": 2, "keep": 1 }, "seed": 2, "threads": 1 },
          "target_loss_window": 2,
          "baseline": { "batch_size": 4, "context_length": 16, "steps": 8, "schedule": { "kind": "cosine", "warmup_steps": 1 },
                        "optimizer": { "lr": 3e-3 }, "eval": { "every": 4, "batches": 2 }, "checkpoint": { "every": 2, "keep": 1 }, "seed": 2, "threads": 1 }
        }
        """;

    private DisCoResults Run(string directory, IProgress<TrainingEvent>? progress = null, CancellationToken cancellation = default)
    {
        var text = Experiment();
        return DisCoRunner.Run(DisCoExperimentLoader.Parse(text), text, directory, TextWriter.Null, progress, cancellation);
    }

    [Fact]
    public void ProducesEveryArtifactAndAReportWhoseNumbersMatchTheMetrics()
    {
        var directory = Path.Combine(_root, "run");
        var results = Run(directory);
        var layout = new DisCoLayout(directory);

        foreach (var path in new[] { layout.ResolvedConfig, layout.State, layout.Integrated, layout.Report, layout.Summary,
                     Path.Combine(layout.Corpus, "manifest.json"), layout.ClusterShard(1, "train"),
                     Path.Combine(layout.Baseline, MetricsLog.FileName), Path.Combine(layout.FineTune, MetricsLog.FileName),
                     Path.Combine(layout.Submodel(0), MetricsLog.FileName), Path.Combine(layout.Submodel(1), MetricsLog.FileName) })
        {
            Assert.True(File.Exists(path), $"{path} is missing");
        }

        // The report's numbers are the metrics files' numbers.
        var fineTune = PhaseTraining.Summarise(layout.FineTune, window: 2);
        var baseline = PhaseTraining.Summarise(layout.Baseline, window: 2);
        Assert.Equal(fineTune.Steps, (long)results.Phase("fine_tune")["steps"]!);
        Assert.Equal(baseline.FinalLoss, (double)results.Phase("baseline")["final_loss"]!, 12);
        var summary = File.ReadAllText(layout.Summary);
        Assert.Contains($" {baseline.FinalLoss:F4} |", summary);
        Assert.Contains($"${results.Cost.TotalDollars:F4}", summary);
        Assert.Contains("Table 1", summary);
        Assert.Contains("Table 3", summary);
        var html = File.ReadAllText(layout.Report);
        Assert.Contains("<svg", html);
        Assert.DoesNotContain("<script", html);

        // The fine-tune stops at the baseline's final loss, or runs all its steps trying.
        var target = (double)results.Phase("fine_tune")["target_loss"]!;
        Assert.Equal(baseline.FinalLoss, target, 12);
        Assert.True((bool)results.Phase("fine_tune")["reached_target"]! ? fineTune.FinalLoss <= target : fineTune.Steps == 8);

        // Routing rows are shares of each cluster's assignments.
        foreach (var row in ((JsonObject)results.Phase("evaluate"))["disco"]!["routing"]!.AsArray())
            Assert.Equal(1.0, row!.AsArray().Sum(v => (double)v!), 9);
    }

    [Fact]
    public void InterruptedInAnyPhaseAndRunAgainEndsWithTheSameMetrics()
    {
        var straight = Run(Path.Combine(_root, "straight"));

        // Stop during the second submodel's training (the third training run), then, once resumed,
        // during the fine-tune (the second training run after the resumed submodel).
        var directory = Path.Combine(_root, "interrupted");
        foreach (var (stopAtRun, stopAtStep) in new[] { (3, 3L), (2, 1L) })
        {
            using var cancel = new CancellationTokenSource();
            var runs = 0;
            var progress = new Callback(e =>
            {
                if (e is RunStarted) runs++;
                if (runs == stopAtRun && e is StepCompleted step && step.Step == stopAtStep) cancel.Cancel();
            });
            Assert.ThrowsAny<OperationCanceledException>(() => Run(directory, progress, cancel.Token));
        }
        var resumed = Run(directory);

        foreach (var phase in new[] { "baseline", "submodel-0", "submodel-1", "fine_tune" })
        {
            Assert.Equal((long)straight.Phase(phase)["steps"]!, (long)resumed.Phase(phase)["steps"]!);
            Assert.Equal((double)straight.Phase(phase)["final_loss"]!, (double)resumed.Phase(phase)["final_loss"]!);
        }
        Assert.Equal((double)straight.Phase("integrate")["held_out_loss"]!, (double)resumed.Phase("integrate")["held_out_loss"]!);
        var (a, b) = ((JsonObject)straight.Phase("evaluate"), (JsonObject)resumed.Phase("evaluate"));
        Assert.Equal((double)a["disco"]!["held_out_loss"]!, (double)b["disco"]!["held_out_loss"]!);
        Assert.Equal((double)a["baseline"]!["held_out_loss"]!, (double)b["baseline"]!["held_out_loss"]!);
    }

    [Fact]
    public void AnotherExperimentInTheSameDirectoryIsRefused()
    {
        var directory = Path.Combine(_root, "other");
        Directory.CreateDirectory(directory);
        File.WriteAllText(new DisCoLayout(directory).ResolvedConfig, "{}");
        var e = Assert.Throws<InvalidOperationException>(() => Run(directory));
        Assert.Contains("holds another experiment", e.Message);
    }

    private sealed class Callback(Action<TrainingEvent> action) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => action(value);
    }
}
