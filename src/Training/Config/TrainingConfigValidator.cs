using System.Globalization;
using Orleans.MoE.Config;
using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Training.Config;

/// <summary>
/// The rules a training configuration must follow, alone and together with a model. Every broken
/// rule is reported, each naming the field path, the bad value and the fix.
/// </summary>
public static class TrainingConfigValidator
{
    /// <summary>Throws a <see cref="ConfigException"/> listing every problem of a configuration built in code.</summary>
    public static void Validate(TrainingConfig config, string source = "training config") => TrainingConfigLoader.Schema.Validate(config, source);

    /// <summary>Every problem, as a list (empty when the configuration is usable).</summary>
    public static IReadOnlyList<ConfigProblem> Problems(TrainingConfig config) => TrainingConfigLoader.Schema.Problems(config);

    /// <summary>Throws when the training configuration does not fit the model (e.g. a context longer than max_seq_len).</summary>
    public static void ValidateWithModel(TrainingConfig config, ModelConfig model, string source = "training config") =>
        TrainingConfigLoader.Schema.Validate(config, source, (c, p) => CollectWithModel(c, model, p));

    /// <summary>The rules that tie a training configuration to the model it trains.</summary>
    public static void CollectWithModel(TrainingConfig config, ModelConfig model, ConfigProblems problems) =>
        problems.Check(config.ContextLength <= model.MaxSeqLen, "context_length",
            $"{config.ContextLength} exceeds the model's max_seq_len ({model.MaxSeqLen}); use at most {model.MaxSeqLen} or raise max_seq_len in the model file");

    /// <summary>Records every broken rule; checks that depend on a field already reported are skipped.</summary>
    public static void Collect(TrainingConfig c, ConfigProblems p)
    {
        Positive(p, c.BatchSize, "batch_size");
        Positive(p, c.MicroBatches, "micro_batches");
        if (c.BatchSize > 0 && c.MicroBatches > 0)
        {
            p.Check(c.BatchSize % c.MicroBatches == 0, "micro_batches",
                $"{c.MicroBatches} does not divide batch_size ({c.BatchSize}); use one of {Divisors(c.BatchSize)}", "batch_size");
        }
        Positive(p, c.ContextLength, "context_length");
        Positive(p, c.Steps, "steps");
        CheckSchedule(c, p);

        var o = c.Optimizer;
        p.Check(o.LearningRate > 0, "optimizer.lr", $"{Show(o.LearningRate)} is not positive; use a peak learning rate such as 5e-4");
        p.Check(o.Beta1 is >= 0 and < 1, "optimizer.beta1", $"{Show(o.Beta1)} is outside [0, 1); use e.g. 0.9");
        p.Check(o.Beta2 is >= 0 and < 1, "optimizer.beta2", $"{Show(o.Beta2)} is outside [0, 1); use e.g. 0.95");
        p.Check(o.Epsilon > 0, "optimizer.eps", $"{Show(o.Epsilon)} is not positive; use e.g. 1e-8");
        p.Check(o.WeightDecay >= 0, "optimizer.weight_decay", $"{Show(o.WeightDecay)} is negative; use 0 (off) or e.g. 0.1");
        p.Check(c.ClipNorm >= 0, "clip_norm", $"{Show(c.ClipNorm)} is negative; use 0 (off) or e.g. 1.0");

        var e = c.Evaluation;
        p.Check(e.Every >= 0, "eval.every", $"{e.Every} is negative; use 0 (off) or a number of steps");
        if (e.Batches is { } batches) Positive(p, batches, "eval.batches", " (or remove it to evaluate on the whole validation split)");
        if (e.BatchSize is { } batchSize) Positive(p, batchSize, "eval.batch_size");
        p.Check(c.Checkpoint.Every >= 0, "checkpoint.every", $"{c.Checkpoint.Every} is negative; use 0 (only at the end) or a number of steps");
        Positive(p, c.Checkpoint.Keep, "checkpoint.keep");
        if (c.BalancingBiasRate is { } rate)
            p.Check(rate >= 0, "balancing_bias_rate", $"{Show(rate)} is negative; use 0 (off), or remove it for 50 x optimizer.lr");
        if (c.Threads is { } threads) Positive(p, threads, "threads", " (or remove it to use every core)");
    }

    private static void CheckSchedule(TrainingConfig c, ConfigProblems p)
    {
        var s = c.Schedule;
        var kind = ConfigNames.Of(s.Kind);
        if (s.Kind == ScheduleKind.Constant)
        {
            p.Check(s.WarmupSteps is null, "schedule.warmup_steps", "is not used by the constant schedule; remove it or use kind cosine or warmup_stable_decay", "schedule.kind");
            p.Check(s.MinLr is null, "schedule.min_lr", "is not used by the constant schedule; remove it or use kind cosine or warmup_stable_decay", "schedule.kind");
        }
        p.Check(s.Kind == ScheduleKind.WarmupStableDecay || s.DecaySteps is null, "schedule.decay_steps",
            $"is only used by kind warmup_stable_decay, not {kind}; remove it or change schedule.kind", "schedule.kind");
        p.Check(s.Kind != ScheduleKind.WarmupStableDecay || s.DecaySteps is not null, "schedule.decay_steps",
            "missing; warmup_stable_decay needs the number of final steps of linear decay (e.g. 20% of steps)", "schedule.kind");

        var warmup = s.WarmupSteps ?? 0;
        p.Check(warmup >= 0, "schedule.warmup_steps", $"{warmup} is negative; use 0 or more");
        if (c.Steps > 0 && warmup >= 0)
            p.Check(warmup < c.Steps || s.Kind == ScheduleKind.Constant, "schedule.warmup_steps",
                $"{warmup} leaves no step after the warm-up of the {c.Steps} steps; use at most {c.Steps - 1}", "steps");
        if (s.DecaySteps is { } decay && s.Kind == ScheduleKind.WarmupStableDecay)
        {
            p.Check(decay > 0, "schedule.decay_steps", $"{decay} is not positive; use e.g. {Math.Max(1, c.Steps / 5)} (20% of steps)");
            if (c.Steps > 0 && decay > 0 && warmup >= 0)
                p.Check(warmup + decay <= c.Steps, "schedule.decay_steps",
                    $"warmup_steps + decay_steps ({warmup} + {decay}) exceed steps ({c.Steps}); use at most {Math.Max(0, c.Steps - warmup)}",
                    "steps", "schedule.warmup_steps");
        }
        if (s.MinLr is { } minLr)
        {
            p.Check(minLr >= 0 && (c.Optimizer.LearningRate <= 0 || minLr <= c.Optimizer.LearningRate), "schedule.min_lr",
                $"{Show(minLr)} is outside [0, optimizer.lr = {Show(c.Optimizer.LearningRate)}]; use e.g. a tenth of optimizer.lr", "optimizer.lr");
        }
    }

    private static void Positive(ConfigProblems p, long value, string path, string alternative = "") =>
        p.Check(value > 0, path, $"{value} is not allowed; use a positive integer{alternative}");

    private static string Divisors(int n) =>
        string.Join(", ", Enumerable.Range(1, n).Where(d => n % d == 0).Take(12));

    private static string Show(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
