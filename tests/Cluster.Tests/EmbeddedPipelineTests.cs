using System.Text.Json.Nodes;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Training.DisCo;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// The whole MoE-DisCo pipeline through the grains of an embedded cluster, on a tiny two-domain
/// corpus: artifacts, report, and resume after the cluster was stopped in any phase.
/// </summary>
[Collection(WorkerProcessesCollection.Name)]
public sealed class EmbeddedPipelineTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-disco-" + Guid.NewGuid().ToString("N"));

    public EmbeddedPipelineTests()
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

    /// <param name="long">longer submodels and fine-tunes (150 steps, no early stop), so that a test can stop them midway</param>
    private string Experiment(string control = "", bool @long = false) => $$"""
        {
          "name": "tiny",{{control}}
          "model": {
            "vocab_size": 320, "d_model": 16, "num_layers": 2, "max_seq_len": 16,
            "attention": { "num_heads": 2 },
            "layers": { "first_dense": 1, "dense": { "hidden_dim": 32 },
                        "ffn": { "kind": "moe", "moe": { "num_experts": 2, "top_k": 2, "expert_dim": 16 } } },
            "init": { "seed": 3 }
          },
          "data": { "paths": [ "{{Path.Combine(_root, "corpus.jsonl")}}" ], "validation_fraction": 0.2, "seed": 1 },
          "clustering": { "method": "kmeans", "restarts": 2, "seed": 1 },
          "submodels": { "batch_size": 4, "context_length": 16, "steps": {{(@long ? 600 : 6)}}, "schedule": { "kind": "constant" },
                         "optimizer": { "lr": 3e-3 }, "eval": { "every": 3, "batches": 2 }, "checkpoint": { "every": 2, "keep": 1 }, "seed": 1, "threads": 1 },
          "integration": { "averaging": "weighted_by_tokens" },
          "fine_tune": { "batch_size": 4, "context_length": 16, "steps": {{(@long ? 600 : 8)}}, "schedule": { "kind": "cosine", "warmup_steps": 1 },
                         "optimizer": { "lr": 3e-3 }, "eval": { "every": 4, "batches": 2 }, "checkpoint": { "every": 2, "keep": 1 }, "seed": 2, "threads": 1 },
          "target_loss_window": 2,{{(@long ? "\"stop_fine_tune_at_baseline_loss\": false," : "")}}
          "baseline": { "batch_size": 4, "context_length": 16, "steps": 8, "schedule": { "kind": "cosine", "warmup_steps": 1 },
                        "optimizer": { "lr": 3e-3 }, "eval": { "every": 4, "batches": 2 }, "checkpoint": { "every": 2, "keep": 1 }, "seed": 2, "threads": 1 }
        }
        """;

    /// <summary>The dense-upcycling control with its default budget: E x submodels.steps = 12 steps.</summary>
    private const string Control = """ "dense_upcycling": { "expert": 1 },""";

    private async Task<DisCoResults> Run(string directory, string control = "", bool @long = false) =>
        (await EmbeddedExperiment.RunAsync(Experiment(control, @long), directory))!;

    /// <summary>
    /// Runs the long variant until the job has written its first checkpoint, then stops the cluster
    /// (the worker checkpoints again and exits), and checks that the experiment did stop there.
    /// </summary>
    private async Task StopInside(string directory, string job, string runDirectory, string control = "")
    {
        var checkpoints = TrainingJob.CheckpointDirectoryOf(runDirectory);
        var stopped = await EmbeddedExperiment.RunAsync(Experiment(control, @long: true), directory,
            s => s.Jobs.Any(j => j.Name == job && j.Status == JobStatus.Running)
                 && Directory.Exists(checkpoints) && Directory.EnumerateDirectories(checkpoints, "step-*").Any());
        Assert.Null(stopped);
        Assert.False(DisCoState.Open(new DisCoLayout(directory).State).IsDone(job), $"{job} finished before the cluster stopped");
    }

    [Fact]
    public async Task ProducesEveryArtifactAndAReportWhoseNumbersMatchTheMetrics()
    {
        var directory = Path.Combine(_root, "run");
        var results = await Run(directory);
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
    public async Task StoppedInAnyPhaseAndRunAgainEndsWithTheSameMetrics()
    {
        var straight = await Run(Path.Combine(_root, "straight"), @long: true);

        // Stop during the second submodel's training, then, once resumed, during the fine-tune.
        var directory = Path.Combine(_root, "interrupted");
        var layout = new DisCoLayout(directory);
        await StopInside(directory, "submodel-1", layout.Submodel(1));
        await StopInside(directory, "fine_tune", layout.FineTune);
        var resumed = await Run(directory, @long: true);

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
    public async Task TheDenseUpcyclingControlProducesItsArtifactsAndReportRowsMatchingItsMetrics()
    {
        var directory = Path.Combine(_root, "control");
        var results = await Run(directory, control: Control);
        var layout = new DisCoLayout(directory);
        foreach (var path in new[] { layout.ControlUpcycled, Path.Combine(layout.ControlDense, MetricsLog.FileName),
                     Path.Combine(layout.ControlFineTune, MetricsLog.FileName), layout.Report, layout.Summary })
        {
            Assert.True(File.Exists(path), $"{path} is missing");
        }

        // The budget: as many tokens as the two submodels together, on all the data.
        var dense = PhaseTraining.Summarise(layout.ControlDense, window: 2);
        Assert.Equal(12, dense.Steps);
        Assert.Equal(12L * 4 * 16, (long)results.Phase("control_dense")["tokens"]!);
        var fineTune = PhaseTraining.Summarise(layout.ControlFineTune, window: 2);
        var phase = results.Phase("control_fine_tune");
        Assert.Equal(fineTune.Steps, (long)phase["steps"]!);
        Assert.Equal(fineTune.FinalLoss, (double)phase["final_loss"]!, 12);
        Assert.Equal((double)results.Phase("fine_tune")["target_loss"]!, (double)phase["target_loss"]!);

        // Table 1 and Table 3 rows carry the control's own numbers.
        var summary = File.ReadAllText(layout.Summary);
        var perplexity = (double)results.Phase("control_evaluate")["held_out_perplexity"]!;
        Assert.Equal(["0", "12", "-", $"{(double)results.Phase("control_upcycle")["held_out_perplexity"]!:F2}"],
            Row(summary, "Dense-upcycling control, copied (before fine-tune)"));
        Assert.Equal([$"{fineTune.Steps}", "12", $"{fineTune.FinalLoss:F4}", $"{perplexity:F2}"], Row(summary, "Dense-upcycling control, fine-tuned"));
        var cost = results.Control!.Cost;
        var denseHours = (double)results.Phase("control_dense")["training_seconds"]! / 3600;
        Assert.Equal(denseHours * 0.35, cost.DenseDollars, 12);
        Assert.Equal((double)phase["training_seconds"]! / 3600 * 2.28, cost.FineTuneDollars, 12);
        Assert.Equal(["low-cost x1", $"{denseHours:F4}", $"${cost.DenseDollars:F4}"], Row(summary, "Control: dense submodel on all data"));
        Assert.Equal(["", $"{cost.TotalHours:F4}", $"${cost.TotalDollars:F4}"], Row(summary, "Dense-upcycling control total"));

        // The report plots it beside DisCo and the baseline.
        var html = File.ReadAllText(layout.Report);
        foreach (var label in new[] { "Routing: dense-upcycling control", "control: dense on all data", "control: fine-tune", "control fine-tuned", "control copied" })
            Assert.Contains(label, html);
    }

    [Fact]
    public async Task TheControlStoppedInItsPhasesAndRunAgainEndsWithTheSameMetrics()
    {
        var straight = await Run(Path.Combine(_root, "control-straight"), Control, @long: true);

        // Stop in the control's dense submodel, then, once resumed, in the control's fine-tune.
        var directory = Path.Combine(_root, "control-interrupted");
        var layout = new DisCoLayout(directory);
        await StopInside(directory, "control_dense", layout.ControlDense, Control);
        await StopInside(directory, "control_fine_tune", layout.ControlFineTune, Control);
        var resumed = await Run(directory, Control, @long: true);

        foreach (var phase in new[] { "control_dense", "control_fine_tune" })
        {
            Assert.Equal((long)straight.Phase(phase)["steps"]!, (long)resumed.Phase(phase)["steps"]!);
            Assert.Equal((double)straight.Phase(phase)["final_loss"]!, (double)resumed.Phase(phase)["final_loss"]!);
        }
        Assert.Equal((double)straight.Phase("control_upcycle")["held_out_loss"]!, (double)resumed.Phase("control_upcycle")["held_out_loss"]!);
        Assert.Equal((double)straight.Phase("control_evaluate")["held_out_loss"]!, (double)resumed.Phase("control_evaluate")["held_out_loss"]!);
    }

    /// <summary>The cells after the first of the Markdown table row that starts with <paramref name="label"/>.</summary>
    private static string[] Row(string markdown, string label)
    {
        var line = markdown.Split('\n').Single(l => l.StartsWith($"| {label} ", StringComparison.Ordinal));
        return line.Trim().Trim('|').Split('|').Skip(1).Select(c => c.Trim()).ToArray();
    }

    [Fact]
    public async Task AnotherExperimentInTheSameDirectoryIsRefused()
    {
        var directory = Path.Combine(_root, "other");
        Directory.CreateDirectory(directory);
        File.WriteAllText(new DisCoLayout(directory).ResolvedConfig, "{}");
        var e = await Assert.ThrowsAsync<ExperimentConflictException>(() => Run(directory));
        Assert.Contains("holds another experiment", e.Message);
    }
}
