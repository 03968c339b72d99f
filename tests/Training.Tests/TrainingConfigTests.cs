using Orleans.MoE.Config;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Schedules;

namespace Orleans.MoE.Training.Tests;

public sealed class TrainingConfigTests
{
    private const string Minimal = """
        {
          "batch_size": 16,
          "context_length": 64,
          "steps": 100,
          "schedule": { "kind": "cosine", "warmup_steps": 10 },
          "optimizer": { "lr": 1e-3 }
        }
        """;

    [Fact]
    public void DefaultsFollowThePaperSetup()
    {
        var c = TrainingConfigLoader.Parse(Minimal);
        Assert.Equal(1, c.MicroBatches);
        Assert.Equal(0.9, c.Optimizer.Beta1);
        Assert.Equal(0.95, c.Optimizer.Beta2);
        Assert.Equal(0.1, c.Optimizer.WeightDecay);
        Assert.Equal(1.0, c.ClipNorm);
        Assert.Equal(0.05, c.ResolvedBalancingBiasRate, 12);   // 50 x lr
        Assert.Equal(3, c.Checkpoint.Keep);
        Assert.Equal(0, c.Evaluation.Every);
        Assert.Equal(16 * 64, c.TokensPerStep);
    }

    [Fact]
    public void WrittenJsonReadsBackToAnEqualRecord()
    {
        var c = TrainingConfigLoader.Parse("""
            {
              "batch_size": 8, "micro_batches": 4, "context_length": 32, "steps": 50,
              "schedule": { "kind": "warmup_stable_decay", "warmup_steps": 5, "decay_steps": 10, "min_lr": 1e-5 },
              "optimizer": { "lr": 5e-4, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.0 },
              "clip_norm": 0.5,
              "eval": { "every": 10, "batches": 3, "batch_size": 2 },
              "checkpoint": { "every": 25, "keep": 2 },
              "balancing_bias_rate": 0.001, "seed": 7, "threads": 1
            }
            """);
        Assert.Equal(c, TrainingConfigLoader.Parse(TrainingConfigLoader.ToJson(c)));
        var resolved = TrainingConfigLoader.Parse(Minimal).Resolve();
        Assert.Equal(resolved, TrainingConfigLoader.Parse(TrainingConfigLoader.ToJson(resolved)));
    }

    [Fact]
    public void EveryProblemIsListedWithItsFieldPath()
    {
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse("""
            {
              "batch_size": 10, "micro_batches": 3, "context_length": 0, "steps": "many",
              "schedule": { "kind": "constant", "warmup_steps": 5 },
              "optimizer": { "lr": -1, "beta2": 1.5, "weight_decy": 0.1 },
              "clip_norm": -1,
              "eval": { "every": 10, "batches": 0 },
              "checkpoint": { "keep": 0 },
              "threads": 0,
              "sede": 3
            }
            """, "bad.json"));
        var paths = e.Problems.Select(p => p.Path).ToList();
        Assert.Equal(
            ["steps", "optimizer.weight_decy", "sede", "micro_batches", "context_length", "schedule.warmup_steps", "optimizer.lr",
             "optimizer.beta2", "clip_norm", "eval.batches", "checkpoint.keep", "threads"],
            paths);
        Assert.StartsWith("bad.json: 12 problems in the training configuration", e.Message);
        Assert.Contains("micro_batches: 3 does not divide batch_size (10); use one of 1, 2, 5, 10", e.Message);
        Assert.Contains("optimizer.weight_decy: unknown field; allowed here: lr, beta1, beta2, eps, weight_decay", e.Message);
        Assert.Contains("steps: expected an integer, got the string \"many\"", e.Message);
    }

    [Fact]
    public void ScheduleFieldsMustFitTheKind()
    {
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse("""
            {
              "batch_size": 4, "context_length": 8, "steps": 10,
              "schedule": { "kind": "warmup_stable_decay", "warmup_steps": 6, "min_lr": 0.5 },
              "optimizer": { "lr": 0.1 }
            }
            """));
        Assert.Equal(["schedule.decay_steps", "schedule.min_lr"], e.Problems.Select(p => p.Path));

        var wrongKind = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse("""
            { "batch_size": 4, "context_length": 8, "steps": 10, "schedule": { "kind": "linear" }, "optimizer": { "lr": 0.1 } }
            """));
        Assert.Contains("schedule.kind: 'linear' is not allowed; use one of constant, cosine, warmup_stable_decay", wrongKind.Message);
    }

    [Fact]
    public void ContextLongerThanTheModelAcceptsIsRefused()
    {
        var c = TrainingConfigLoader.Parse(Minimal);
        var model = TinyModels.Dense() with { MaxSeqLen = 32 };
        var e = Assert.Throws<ConfigException>(() => TrainingConfigValidator.ValidateWithModel(c, model));
        Assert.Contains("context_length: 64 exceeds the model's max_seq_len (32)", e.Message);

        var both = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse(Minimal.Replace("\"batch_size\": 16", "\"batch_size\": 0"), "t.json", model));
        Assert.Equal(["batch_size", "context_length"], both.Problems.Select(p => p.Path));
    }

    [Fact]
    public void TheScheduleFollowsTheConfiguration()
    {
        var c = TrainingConfigLoader.Parse(Minimal);
        var schedule = LearningRateSchedules.From(c);
        Assert.Equal(new CosineSchedule(1e-3, 10, 100, 0), schedule);
        var missing = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse("{}", "empty.json"));
        Assert.Equal(["batch_size", "context_length", "steps", "schedule", "optimizer"], missing.Problems.Select(p => p.Path));
    }
}
