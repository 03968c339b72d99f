using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Orleans.MoE.Training.Telemetry;

/// <summary>
/// The trainer's spans (training run, checkpoint save and load, evaluation, step) and the
/// training instruments of the <c>Orleans.MoE</c> meter. Attributes name the phase and the layer,
/// never an experiment id or a path (bounded cardinality).
/// </summary>
public static class TrainingTelemetry
{
    public const string SourceName = "Orleans.MoE.Training";
    public const string MeterName = "Orleans.MoE";
    public const string Version = "1.0";

    public static readonly ActivitySource Source = new(SourceName, Version);

    private static readonly Meter Meter = new(MeterName, Version);

    public static readonly Histogram<double> Loss = Meter.CreateHistogram<double>("moe.training.loss", description: "Training loss of each step");

    public static readonly Histogram<double> TokensPerSecond = Meter.CreateHistogram<double>("moe.training.tokens_per_second", "{token}/s", "Training throughput of each step");

    public static readonly Histogram<double> StepTime = Meter.CreateHistogram<double>("moe.training.step.duration", "s", "Wall time of one optimizer step");

    public static readonly Histogram<double> FlopsPerSecond = Meter.CreateHistogram<double>("moe.training.flops_per_second", "FLOP/s",
        "Achieved training FLOP/s (6 x active matrix parameters per token); MFU = this over the device's peak");

    public static readonly Histogram<double> ExpertLoadMaxOverMean = Meter.CreateHistogram<double>("moe.training.expert_load.max_over_mean", description: "Most loaded expert over the mean load, per routed layer");

    public static readonly Histogram<double> ExpertLoadCv = Meter.CreateHistogram<double>("moe.training.expert_load.cv", description: "Coefficient of variation of the expert load, per routed layer");

    /// <summary>
    /// A training step's span, in the per_step span group only. Off (the default group), this is
    /// one static read: no span, no allocation (bench/Orleans.MoE.Bench.Cluster `spans` measures it).
    /// </summary>
    public static Activity? StartStep() => SpanGroups.PerStep ? Source.StartActivity("training.step") : null;

    public static void EndStep(Activity? span, long step, double loss)
    {
        if (span is null) return;
        span.SetTag("moe.training.step", step);
        span.SetTag("moe.training.loss", loss);
        span.Dispose();
    }

    public static readonly Histogram<double> EvaluationLoss = Meter.CreateHistogram<double>("moe.evaluation.loss", description: "Held-out mean token NLL");
}
