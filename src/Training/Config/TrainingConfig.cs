using System.ComponentModel;
using System.Text.Json.Serialization;

namespace Orleans.MoE.Training.Config;

/// <summary>
/// How to train: batch, context, steps, learning-rate schedule, AdamW, clipping, evaluation,
/// checkpoints and seeds, as read from a training file (JSON or YAML, snake_case keys). Load it with
/// <see cref="TrainingConfigLoader"/>, which validates it completely and lists every problem. Every
/// settable property is a field of the file; a <see cref="DescriptionAttribute"/> is the hint an
/// error message gives for it.
/// <para>
/// Defaults follow the Multi-Head LatentMoE paper's setup where it gives one (AdamW betas 0.9/0.95,
/// weight decay 0.1 on matrices, clip norm 1.0, balancing bias rate 50 x the peak learning rate)
/// and common practice where it is silent (eps 1e-8).
/// </para>
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>Sequences per optimizer step (the global batch), split evenly into <see cref="MicroBatches"/>.</summary>
    [Description("set the sequences per optimizer step (e.g. 32)")]
    public required int BatchSize { get; init; }

    /// <summary>Gradient accumulation: forward/backward passes per optimizer step, each on BatchSize / MicroBatches sequences.</summary>
    public int MicroBatches { get; init; } = 1;

    /// <summary>T, tokens per training sequence; at most the model's max_seq_len.</summary>
    [Description("set the tokens per sequence (at most the model's max_seq_len)")]
    public required int ContextLength { get; init; }

    /// <summary>Optimizer steps of the whole run.</summary>
    [Description("set the number of optimizer steps")]
    public required long Steps { get; init; }

    public required ScheduleConfig Schedule { get; init; }

    public required OptimizerConfig Optimizer { get; init; }

    /// <summary>Global gradient-norm clipping threshold; 0 turns clipping off (the norm is still logged).</summary>
    public double ClipNorm { get; init; } = DefaultClipNorm;

    public const double DefaultClipNorm = 1.0;

    [JsonPropertyName("eval")]
    public EvaluationConfig Evaluation { get; init; } = new();

    public CheckpointConfig Checkpoint { get; init; } = new();

    /// <summary>
    /// Step of the auxiliary-loss-free balancing-bias update, once per optimizer step; when absent,
    /// 50 x optimizer.lr (the paper's code). It replaces the model file's balancing.bias_update_rate
    /// during training; 0 turns the update off.
    /// </summary>
    public double? BalancingBiasRate { get; init; }

    /// <summary>Seed of the training data order and of the trainer's generator (weights use the model's init.seed).</summary>
    public ulong Seed { get; init; }

    /// <summary>libtorch threads; all cores when absent.</summary>
    public int? Threads { get; init; }

    /// <summary>
    /// float32 (the default), or bf16_autocast: the forward pass under libtorch's autocast, with
    /// matrix products in bfloat16 and parameters, gradients and AdamW's state in float32.
    /// </summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;

    /// <summary>Sequences per forward/backward pass.</summary>
    public int MicroBatchSize => BatchSize / MicroBatches;

    public long TokensPerStep => (long)BatchSize * ContextLength;

    public double ResolvedBalancingBiasRate => BalancingBiasRate ?? BalancingRatePerLearningRate * Optimizer.LearningRate;

    public const double BalancingRatePerLearningRate = 50;

    /// <summary>The configuration with every default that depends on other fields or the machine filled in.</summary>
    public TrainingConfig Resolve() => this with
    {
        BalancingBiasRate = ResolvedBalancingBiasRate,
        Threads = Threads ?? Environment.ProcessorCount,
    };
}

/// <summary>The arithmetic of the forward and backward passes; the weights and AdamW stay float32 in both.</summary>
public enum TrainingPrecision
{
    Float32,
    /// <summary>bfloat16 autocast (mixed precision): float32 master weights, bfloat16 matrix products.</summary>
    Bf16Autocast,
}

public enum ScheduleKind
{
    Constant,
    Cosine,
    WarmupStableDecay,
}

/// <summary>
/// The learning-rate schedule; its peak is optimizer.lr. warmup_steps and min_lr apply to cosine and
/// warmup_stable_decay, decay_steps to warmup_stable_decay only.
/// </summary>
public sealed record ScheduleConfig
{
    [Description("choose the schedule")]
    public required ScheduleKind Kind { get; init; }

    /// <summary>Steps of linear warm-up to the peak (default 0).</summary>
    public long? WarmupSteps { get; init; }

    /// <summary>Final steps of linear decay (warmup_stable_decay; required there).</summary>
    public long? DecaySteps { get; init; }

    /// <summary>The rate reached at the last step (default 0).</summary>
    public double? MinLr { get; init; }
}

/// <summary>AdamW, with weight decay on matrices only (norm gains and other vectors are not decayed).</summary>
public sealed record OptimizerConfig
{
    /// <summary>Peak learning rate.</summary>
    [JsonPropertyName("lr"), Description("set the peak learning rate (e.g. 5e-4)")]
    public required double LearningRate { get; init; }

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.95;

    [JsonPropertyName("eps")]
    public double Epsilon { get; init; } = 1e-8;

    public double WeightDecay { get; init; } = 0.1;
}

public sealed record EvaluationConfig
{
    /// <summary>Evaluate on the validation split every this many optimizer steps and at the last step; 0 turns evaluation off.</summary>
    public long Every { get; init; }

    /// <summary>Batches of validation windows per evaluation, from the start of the split; absent = the whole split.</summary>
    public int? Batches { get; init; }

    /// <summary>Sequences per evaluation batch; the micro-batch size when absent.</summary>
    public int? BatchSize { get; init; }
}

public sealed record CheckpointConfig
{
    /// <summary>Save every this many optimizer steps (0: only at the end and when cancelled).</summary>
    public long Every { get; init; }

    /// <summary>Checkpoints kept; older ones are removed once a newer one is complete.</summary>
    public int Keep { get; init; } = 3;
}
