using Orleans.MoE.Silo.Telemetry;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>What every completed experiment's recorded trace must be: one connected tree, silos and workers included.</summary>
internal static class ExperimentTraceAssertions
{
    /// <summary>
    /// The span files of <paramref name="directory"/> hold one trace whose only root is the
    /// experiment, every other span's parent is recorded, and the spans of the control plane, the
    /// placement, the workers and the trainer are all there: a phase, a job attempt per job with its
    /// silo, a worker span under each attempt, and training runs with checkpoints and evaluations.
    /// </summary>
    public static SpanTree OneConnectedTrace(string directory, params string[] jobs)
    {
        var tree = SpanTree.Load(directory);
        Assert.True(tree.Orphans.Count == 0, $"spans whose parent is not recorded: {string.Join(", ", tree.Orphans.Select(s => $"{s.Name} [{s.Process}]"))}");
        var root = Assert.Single(tree.Roots);
        Assert.Equal("experiment", root.Name);
        Assert.Null(root.ParentSpanId);
        Assert.Equal("ok", root.Status);
        Assert.Single(tree.Spans.Select(s => s.TraceId).Distinct());

        var names = tree.Spans.Select(s => s.Name).ToHashSet();
        foreach (var name in new[] { "phase Preparing", "phase TrainingSubmodels", "phase FineTuning", "placement", "training.run", "checkpoint.save", "evaluation" })
            Assert.True(names.Contains(name), $"no span '{name}' among: {string.Join(", ", names.Order())}");
        foreach (var job in jobs)
        {
            var attempt = tree.Spans.FirstOrDefault(s => s.Name == $"job {job}" && s.Attributes.GetValueOrDefault("moe.job.outcome") == "succeeded");
            Assert.True(attempt is not null, $"no succeeded attempt span of job {job}");
            Assert.False(string.IsNullOrEmpty(attempt.Attributes.GetValueOrDefault("moe.silo")), $"job {job}'s attempt span names no silo");
            Assert.Equal("1", attempt.Attributes["moe.job.attempt"]);
            // The attempt's worker ran in another process, under the attempt's span.
            var worker = tree.ChildrenOf(attempt).SingleOrDefault(s => s.Name.StartsWith("worker ", StringComparison.Ordinal));
            Assert.True(worker is not null, $"job {job}'s attempt has no worker span under it");
            Assert.Equal("moe-worker", worker.Process);
            // And the attempt sits under its phase, under the experiment.
            var phase = tree.Spans.Single(s => s.SpanId == attempt.ParentSpanId);
            Assert.StartsWith("phase ", phase.Name);
            Assert.Equal(root.SpanId, phase.ParentSpanId);
        }
        var training = tree.Spans.Where(s => s.Name == "training.run").ToList();
        Assert.All(training, t => Assert.Equal("moe-worker", t.Process));
        Assert.Contains(tree.Spans, s => s.Process == "moe-silo");
        Assert.DoesNotContain(tree.Spans, s => s.Name == "training.step");   // per-step spans are off by default
        return tree;
    }
}
