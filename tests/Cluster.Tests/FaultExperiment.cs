using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// The experiment the fault tests disturb: the tiny MoE with submodels and baseline long enough
/// (300 steps, a checkpoint every 20) to be hit mid-training, and its undisturbed run's metrics,
/// computed once on an embedded cluster (one thread per job, so a resumed run is bit-identical).
/// </summary>
public sealed class FaultExperiment : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-faults-" + Guid.NewGuid().ToString("N"));

    public string Json { get; private set; } = "";

    public DisCoState Undisturbed { get; private set; } = null!;

    public static string With(string corpus, string extra = "") =>
        TestExperiments.Tiny(corpus, extra, submodelSteps: 300, fineTuneSteps: 60, stopAtBaseline: false)
            .Replace("\"checkpoint\": { \"every\": 2, \"keep\": 1 }", "\"checkpoint\": { \"every\": 20, \"keep\": 2 }")
            .Replace("\"baseline\": { \"batch_size\": 4, \"context_length\": 16, \"steps\": 8,", "\"baseline\": { \"batch_size\": 4, \"context_length\": 16, \"steps\": 300,");

    public string Corpus => Path.Combine(_root, "data", "corpus.jsonl");

    public async Task InitializeAsync()
    {
        TestExperiments.WriteCorpus(Path.Combine(_root, "data"));
        Json = With(Corpus);
        var directory = Path.Combine(_root, "undisturbed");
        await EmbeddedExperiment.RunAsync(Json, directory, timeout: TimeSpan.FromMinutes(5));
        Undisturbed = DisCoState.Open(new DisCoLayout(directory).State);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    private static string Metrics(string phase, System.Text.Json.Nodes.JsonObject m) =>
        $"{phase}: steps {m["steps"]}, final loss {(double)m["final_loss"]!:R}, held-out loss {(double?)m["held_out_loss"]:R}";

    /// <summary>Asserts that a disturbed run ended with the undisturbed run's metrics, bit for bit.</summary>
    public void AssertSameMetrics(string experimentDirectory)
    {
        var disturbed = DisCoState.Open(new DisCoLayout(experimentDirectory).State);
        foreach (var phase in new[] { "baseline", "submodel-0", "submodel-1", "fine_tune" })
        {
            var (expected, actual) = (Undisturbed.Get(phase), disturbed.Get(phase));
            // Compared as one string per phase, so that a failure names the phase and every metric.
            var (want, got) = (Metrics(phase, expected), Metrics(phase, actual));
            Assert.True(want == got, $"expected {want}\nbut got  {got}");
        }
        Assert.Equal((double)Undisturbed.Get("evaluate")["disco"]!["held_out_loss"]!, (double)disturbed.Get("evaluate")["disco"]!["held_out_loss"]!);
        Assert.Equal((double)Undisturbed.Get("evaluate")["baseline"]!["held_out_loss"]!, (double)disturbed.Get("evaluate")["baseline"]!["held_out_loss"]!);
    }
}
