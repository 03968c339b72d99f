using System.Text.Json.Nodes;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.Checkpoints;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.Tests;

/// <summary>
/// Determinism, exact resume (after a stop, a cancellation and a crash), checkpoint handling.
/// One collection: the trainer sets libtorch's thread count, and bitwise comparisons want runs that
/// do not share the cores with each other.
/// </summary>
[Collection(TrainerCollection.Name)]
public sealed class TrainerTests : IDisposable
{
    private readonly TrainingSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    /// <summary>A MoE with the Switch loss on, so the aux loss is part of what must match.</summary>
    private static ModelConfig Moe() => TinyModels.Moe() with { Balancing = new BalancingConfig { AuxLossWeight = 0.01 } };

    [Fact]
    public void TheSameConfigurationTwiceGivesIdenticalLosses()
    {
        var training = TrainingSandbox.Config(steps: 4);
        var (first, a) = _sandbox.Run(Moe(), training, "a");
        var (_, b) = _sandbox.Run(Moe(), training, "b");

        Assert.Equal(TrainingOutcome.Completed, first.Outcome);
        Assert.Equal(4, a.Losses.Count);
        Assert.Equal(a.Losses, b.Losses);
        Assert.Equal(a.Steps.Select(s => s.AuxLoss), b.Steps.Select(s => s.AuxLoss));
        Assert.All(a.Steps, s => Assert.NotNull(s.AuxLoss));
        Assert.True(a.Losses.Distinct().Count() == 4, "the weights should change from step to step");
    }

    [Fact]
    public void StoppingAndResumingGivesTheSameLossesAndWeightsBitForBit()
    {
        var training = TrainingSandbox.Config(steps: 6, evalEvery: 2);
        var (_, straight) = _sandbox.Run(Moe(), training, "straight");

        var (stopped, first) = _sandbox.Run(Moe(), training, "resumed", stopAfter: 3);
        Assert.Equal(TrainingOutcome.Stopped, stopped.Outcome);
        Assert.Equal(3, stopped.Step);
        var (resumed, second) = _sandbox.Run(Moe(), training, "resumed", resume: true);
        Assert.Equal(TrainingOutcome.Completed, resumed.Outcome);
        Assert.Equal(6 * training.TokensPerStep, resumed.TokensSeen);
        var started = Assert.IsType<RunStarted>(second.Events[0]);
        Assert.True(started.Resumed);
        Assert.Equal(3, started.Step);

        Assert.Equal(straight.Losses, first.Losses.Concat(second.Losses));
        Assert.Equal(straight.Steps.Select(s => s.GradNorm), first.Steps.Concat(second.Steps).Select(s => s.GradNorm));
        Assert.Equal(straight.Events.OfType<EvaluationCompleted>().Select(e => e.Loss),
            first.Events.Concat(second.Events).OfType<EvaluationCompleted>().Select(e => e.Loss));
        AssertSameTensors(_sandbox.LatestTensors("straight", "model"), _sandbox.LatestTensors("resumed", "model"));
        AssertSameTensors(_sandbox.LatestTensors("straight", "optimizer"), _sandbox.LatestTensors("resumed", "optimizer"));
    }

    [Fact]
    public void CancellationCheckpointsTheLastStepAndResumesExactly()
    {
        var training = TrainingSandbox.Config(steps: 5);
        var (_, straight) = _sandbox.Run(Moe(), training, "straight");

        using var cancel = new CancellationTokenSource();
        var (cancelled, first) = _sandbox.Run(Moe(), training, "cancelled", cancellation: cancel.Token,
            onEvent: e => { if (e is StepCompleted { Step: 2 }) cancel.Cancel(); });
        Assert.Equal(TrainingOutcome.Cancelled, cancelled.Outcome);
        Assert.Equal(2, cancelled.Step);
        Assert.EndsWith("step-00000002", cancelled.CheckpointDirectory);
        Assert.IsType<CheckpointSaved>(first.Events[^1]);

        var (_, second) = _sandbox.Run(Moe(), training, "cancelled", resume: true);
        Assert.Equal(straight.Losses, first.Losses.Concat(second.Losses));
        AssertSameTensors(_sandbox.LatestTensors("straight", "model"), _sandbox.LatestTensors("cancelled", "model"));
    }

    [Fact]
    public void ResumingAfterACrashDropsTheMetricsWrittenAfterTheCheckpoint()
    {
        var training = TrainingSandbox.Config(steps: 6, evalEvery: 2, checkpointEvery: 3);
        var (_, straight) = _sandbox.Run(Moe(), training, "straight");

        // Steps 4 and 5 are logged, then the process "dies" before its checkpoint of step 5 exists.
        _sandbox.Run(Moe(), training, "crashed", stopAfter: 5);
        var store = new CheckpointStore(Path.Combine(_sandbox.RunDirectory("crashed"), "checkpoints"));
        Directory.Delete(store.DirectoryFor(5), recursive: true);
        Assert.Equal(3, store.LatestStep);

        _sandbox.Run(Moe(), training, "crashed", resume: true);
        var log = MetricsLog.Read(Path.Combine(_sandbox.RunDirectory("crashed"), MetricsLog.FileName));
        var trainSteps = log.Where(l => (string)l["event"]! == "train").Select(l => (long)l["step"]!).ToList();
        Assert.Equal([1L, 2, 3, 4, 5, 6], trainSteps);
        Assert.Equal([2L, 4, 6], log.Where(l => (string)l["event"]! == "eval").Select(l => (long)l["step"]!));
        Assert.Equal(straight.Losses, log.Where(l => (string)l["event"]! == "train").Select(l => (double)l["loss"]!));
    }

    [Fact]
    public void ACorruptCheckpointIsRefusedNamingTheFile()
    {
        var training = TrainingSandbox.Config(steps: 4);
        _sandbox.Run(Moe(), training, "run", stopAfter: 2);
        var file = Path.Combine(_sandbox.RunDirectory("run"), "checkpoints", "step-00000002", "model.safetensors");
        var bytes = File.ReadAllBytes(file);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(file, bytes);

        var before = DirectoryTree.Hash(_sandbox.RunDirectory("run"));
        var e = Assert.Throws<CheckpointCorruptException>(() => _sandbox.Run(Moe(), training, "run", resume: true));
        Assert.Equal(before, DirectoryTree.Hash(_sandbox.RunDirectory("run")));
        Assert.Equal(file, e.CheckpointPath);
        Assert.Contains(file, e.Message);
        Assert.Contains("does not match the manifest", e.Message);
    }

    [Fact]
    public void OnlyTheNewestCheckpointsAreKept()
    {
        var training = TrainingSandbox.Config(steps: 5, checkpointEvery: 1, keep: 2);
        var (result, events) = _sandbox.Run(TinyModels.Dense(), training, "run");
        Assert.Equal(5, events.Events.OfType<CheckpointSaved>().Count());
        var store = new CheckpointStore(Path.Combine(_sandbox.RunDirectory("run"), "checkpoints"));
        Assert.Equal([4L, 5L], store.Steps());
        Assert.Equal(store.DirectoryFor(5), result.CheckpointDirectory);
    }

    [Fact]
    public void ResumingWithOtherSettingsListsTheDifferences()
    {
        var training = TrainingSandbox.Config(steps: 4);
        _sandbox.Run(Moe(), training, "run", stopAfter: 2);
        var changed = training with { Steps = 8, Optimizer = training.Optimizer with { LearningRate = 1e-3 } };
        var e = Assert.Throws<RunDirectoryException>(() => _sandbox.Run(Moe(), changed, "run", resume: true));
        Assert.Contains("training.steps: 4 in the checkpoint, 8 now", e.Message);
        Assert.Contains("training.optimizer.lr: 0.003 in the checkpoint, 0.001 now", e.Message);
        Assert.Contains("training.balancing_bias_rate", e.Message);   // 50 x lr follows the learning rate
    }

    [Fact]
    public void AManifestWithConfigurationsInAnOlderFormResumes()
    {
        var training = TrainingSandbox.Config(steps: 4);
        _sandbox.Run(Moe(), training, "run", stopAfter: 2);
        var store = new CheckpointStore(Path.Combine(_sandbox.RunDirectory("run"), "checkpoints"));
        var manifestPath = Path.Combine(store.DirectoryFor(2), CheckpointStore.ManifestFile);
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        var config = manifest["config"]!.AsObject();
        Assert.Equal(config["model"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal), config["model"]!.AsObject().Select(p => p.Key));

        // As written before a field existed, and in another key order: the defaults fill the gaps.
        var model = Reversed(config["model"]!.AsObject());
        model.Remove("norm_eps");
        model.Remove("tie_embeddings");
        var older = Reversed(config["training"]!.AsObject());
        older.Remove("clip_norm");
        manifest["config"] = new JsonObject { ["training"] = older, ["model"] = model };
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        var (result, _) = _sandbox.Run(Moe(), training, "run", resume: true);
        Assert.Equal(4, result.Step);
    }

    private static JsonObject Reversed(JsonObject o) => new(o.Reverse().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));

    [Fact]
    public void ANewRunRefusesARunDirectoryThatHoldsCheckpoints()
    {
        var training = TrainingSandbox.Config(steps: 3);
        _sandbox.Run(TinyModels.Dense(), training, "run");
        var e = Assert.Throws<RunDirectoryException>(() => _sandbox.Run(TinyModels.Dense(), training, "run"));
        Assert.Contains("already holds a run (checkpoint of step 3); resume it", e.Message);
        var none = Assert.Throws<RunDirectoryException>(() => _sandbox.Run(TinyModels.Dense(), training, "empty", resume: true));
        Assert.Contains("no checkpoint to resume from", none.Message);
    }

    [Fact]
    public void TheMetricsLogHoldsEveryStepWithRoutingMetrics()
    {
        var training = TrainingSandbox.Config(steps: 3, evalEvery: 3);
        var (_, events) = _sandbox.Run(Moe(), training, "run");
        var log = MetricsLog.Read(Path.Combine(_sandbox.RunDirectory("run"), MetricsLog.FileName));
        Assert.Equal(["train", "train", "train", "eval", "checkpoint"], log.Select(l => (string)l["event"]!));

        var step = events.Steps[1];
        var line = log[1];
        Assert.Equal(step.Loss, (double)line["loss"]!);
        Assert.Equal(step.LanguageModelLoss, (double)line["lm_loss"]!);
        Assert.Equal(step.AuxLoss, (double)line["aux_loss"]!);
        Assert.Equal(step.LearningRate, (double)line["lr"]!);
        Assert.Equal(step.GradNorm, (double)line["grad_norm"]!);
        Assert.Equal(2 * training.TokensPerStep, (long)line["tokens"]!);
        Assert.True((double)line["tokens_per_second"]! > 0);

        var routing = Assert.Single(line["routing"]!.AsArray())!;
        Assert.Equal(1, (int)routing["layer"]!);
        var counts = routing["tokens_per_expert"]!.AsArray().Select(c => (long)c!).ToArray();
        Assert.Equal(training.TokensPerStep * 2, counts.Sum());   // every token routed to k = 2 experts
        Assert.Equal(counts.Max(), (long)routing["max_load"]!);
        Assert.Equal(counts.Max() / counts.Average(), (double)routing["max_over_mean"]!, 12);
        Assert.Equal(step.Routing[0].CoefficientOfVariation, (double)routing["cv"]!);
    }

    [Fact]
    public void TheManifestDescribesWhereTheRunStands()
    {
        var training = TrainingSandbox.Config(steps: 3);
        _sandbox.Run(Moe(), training, "run");
        var store = new CheckpointStore(Path.Combine(_sandbox.RunDirectory("run"), "checkpoints"));
        var manifest = store.ReadManifest(3);

        Assert.Equal(3 * training.TokensPerStep, manifest.TokensSeen);
        Assert.Equal(16, (int)manifest.Config!["model"]!["d_model"]!);
        Assert.Equal(0.01, (double)manifest.Config!["model"]!["balancing"]!["aux_loss_weight"]!);
        Assert.Equal(0.15, (double)manifest.Config!["training"]!["balancing_bias_rate"]!, 12);   // resolved: 50 x lr
        var position = Orleans.MoE.Data.Shards.TokenWindowPosition.Parse((string)manifest.DataPosition!["train"]!);
        Assert.Equal(3 * 4, position.Index);   // 3 steps of 4 windows
        Assert.NotEmpty(Convert.FromBase64String(manifest.RngStates["trainer"]));
        Assert.Equal(["model.safetensors", "optimizer.safetensors"], manifest.FileHashes.Keys.Order());

        var biases = manifest.Extra["balancing_biases"]!["layers.1.ffn.balancing_bias"]!.AsArray();
        using var scope = DisposeScope.Begin();
        var saved = store.LoadTensors(3, "model")["layers.1.ffn.balancing_bias"].ToArray<float>();
        Assert.Equal(saved, biases.Single()!.AsArray().Select(v => (float)v!));
        Assert.Contains(saved, b => b != 0);
    }

    private static void AssertSameTensors(Dictionary<string, Tensor> expected, Dictionary<string, Tensor> actual)
    {
        try
        {
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (name, tensor) in expected) Assert.True(tensor.Equal(actual[name]), $"{name} differs");
        }
        finally
        {
            foreach (var t in expected.Values.Concat(actual.Values)) t.Dispose();
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainerCollection
{
    public const string Name = "trainer";
}
