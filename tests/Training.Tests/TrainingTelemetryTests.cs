using System.Diagnostics;
using System.Diagnostics.Metrics;
using Orleans.MoE.Model.Accounting;
using Orleans.MoE.Training.Runs;
using Orleans.MoE.Training.Telemetry;

namespace Orleans.MoE.Training.Tests;

/// <summary>
/// The trainer's spans and measurements: the Orleans.MoE meter records exactly what the trainer
/// reports for each step, and the span tree of a run has a span per step only in the per_step group.
/// Only what happens on this test's thread counts (the trainer runs on its caller's thread; other
/// tests train beside it).
/// </summary>
public sealed class TrainingTelemetryTests : IDisposable
{
    private readonly TrainingSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public void TheMeterRecordsEachStepsLossTimeThroughputFlopsAndExpertLoadAsReported()
    {
        var thread = Environment.CurrentManagedThreadId;
        var measured = new List<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TrainingTelemetry.MeterName && instrument.Name.StartsWith("moe.training.", StringComparison.Ordinal)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (Environment.CurrentManagedThreadId != thread) return;
            var copy = new Dictionary<string, object?>();
            foreach (var t in tags) copy[t.Key] = t.Value;
            measured.Add((instrument.Name, value, copy));
        });
        listener.Start();

        var model = TinyModels.Moe();
        var training = TrainingSandbox.Config(steps: 3);
        var (_, events) = _sandbox.Run(model, training, "metrics");
        listener.Dispose();

        List<double> Values(string name) => measured.Where(m => m.Name == name).Select(m => m.Value).ToList();
        Assert.Equal(events.Losses, Values("moe.training.loss"));
        Assert.Equal(events.Steps.Select(s => s.Seconds), Values("moe.training.step.duration"));
        Assert.Equal(events.Steps.Select(s => s.TokensPerSecond), Values("moe.training.tokens_per_second"));
        var flopsPerToken = ModelAccounting.Of(model, training.ContextLength).TrainingFlopsPerToken;
        Assert.True(flopsPerToken > 0);
        Assert.Equal(events.Steps.Select(s => s.TokensPerSecond * flopsPerToken), Values("moe.training.flops_per_second"));
        // One measurement per routed layer and step, tagged with its layer: the same numbers as the step's routing metrics.
        var routed = events.Steps.SelectMany(s => s.Routing).ToList();
        Assert.NotEmpty(routed);
        var loads = measured.Where(m => m.Name == "moe.training.expert_load.max_over_mean").ToList();
        Assert.Equal(routed.Select(r => (r.Layer, r.MaxOverMean)), loads.Select(m => ((int)m.Tags["moe.layer"]!, m.Value)));
        Assert.Equal(routed.Select(r => r.CoefficientOfVariation), Values("moe.training.expert_load.cv"));
        Assert.All(measured, m => Assert.DoesNotContain(m.Tags.Keys, k => k.Contains("experiment", StringComparison.Ordinal) || k.Contains("path", StringComparison.Ordinal)));
    }

    [Fact]
    public void ARunsSpansNestUnderTheTrainingRunAndOnlyThePerStepGroupHasASpanPerStep()
    {
        var thread = Environment.CurrentManagedThreadId;
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == TrainingTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (Environment.CurrentManagedThreadId == thread) lock (spans) spans.Add(a);
            },
        };
        ActivitySource.AddActivityListener(listener);
        var previous = SpanGroups.Current;
        try
        {
            SpanGroups.Current = SpanGroup.Default;
            _sandbox.Run(TinyModels.Dense(), TrainingSandbox.Config(steps: 4, evalEvery: 2, checkpointEvery: 2), "default");
            var byDefault = spans.ToList();
            spans.Clear();
            SpanGroups.Current = SpanGroups.Parse("per_step", "test");
            var (_, events) = _sandbox.Run(TinyModels.Dense(), TrainingSandbox.Config(steps: 4, evalEvery: 2, checkpointEvery: 2), "per-step");

            Assert.DoesNotContain(byDefault, s => s.DisplayName == "training.step");
            Assert.Equal(["checkpoint.save", "checkpoint.save", "evaluation", "evaluation", "training.run"], byDefault.Select(s => s.DisplayName).Order());

            var run = Assert.Single(spans, s => s.DisplayName == "training.run");
            var steps = spans.Where(s => s.DisplayName == "training.step").ToList();
            Assert.Equal([1L, 2, 3, 4], steps.Select(s => (long)s.GetTagItem("moe.training.step")!));
            Assert.Equal(events.Losses, steps.Select(s => (double)s.GetTagItem("moe.training.loss")!));
            Assert.All(spans.Where(s => s != run), s => Assert.Equal(run.SpanId, s.ParentSpanId));
            Assert.Equal("Completed", run.GetTagItem("moe.training.outcome"));
        }
        finally
        {
            SpanGroups.Current = previous;
        }
    }

    [Fact]
    public void AnUnknownSpanGroupIsRefusedNamingWhereItCameFromAndTheChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => SpanGroups.Parse("steps", "MOE_TRACE_SPANS"));
        Assert.Equal("MOE_TRACE_SPANS: 'steps' is not a span group; use default, per_step or all", e.Message);
        Assert.Equal(SpanGroup.All, SpanGroups.Parse(" ALL ", "x"));
        Assert.Equal(SpanGroup.Default, SpanGroups.Parse(null, "x"));
    }
}
