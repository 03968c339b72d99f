using System.Text.Json.Nodes;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// The experiment the fault tests disturb: the tiny MoE with submodels and baseline long enough
/// (2000 steps, a checkpoint every 20, so that a job is still training when a fault arrives on a loaded machine) to be hit mid-training, and its undisturbed run's metrics,
/// computed once on an embedded cluster (one thread per job, so a resumed run is bit-identical).
/// </summary>
public class FaultExperiment : IAsyncLifetime
{
    private readonly int _steps;
    private readonly int _fineTuneSteps;

    // xunit needs a fixture's public constructor to be its only one.
    public FaultExperiment() : this(steps: 2000, fineTuneSteps: 60)
    {
    }

    protected FaultExperiment(int steps, int fineTuneSteps) => (_steps, _fineTuneSteps) = (steps, fineTuneSteps);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "moe-faults-" + Guid.NewGuid().ToString("N"));

    public string Json { get; private set; } = "";

    public DisCoState Undisturbed { get; private set; } = null!;

    public static string With(string corpus, string extra = "", int steps = 2000, int fineTuneSteps = 60) =>
        TestExperiments.Tiny(corpus, extra, submodelSteps: steps, fineTuneSteps: fineTuneSteps, stopAtBaseline: false)
            .Replace("\"checkpoint\": { \"every\": 2, \"keep\": 1 }", "\"checkpoint\": { \"every\": 20, \"keep\": 2 }")
            .Replace("\"baseline\": { \"batch_size\": 4, \"context_length\": 16, \"steps\": 8,", $"\"baseline\": {{ \"batch_size\": 4, \"context_length\": 16, \"steps\": {steps},");

    public string Corpus => Path.Combine(_root, "data", "corpus.jsonl");

    public async Task InitializeAsync()
    {
        TestExperiments.WriteCorpus(Path.Combine(_root, "data"));
        Json = With(Corpus, steps: _steps, fineTuneSteps: _fineTuneSteps);
        var directory = Path.Combine(_root, "undisturbed");
        await EmbeddedExperiment.RunAsync(Json, directory, timeout: TimeSpan.FromMinutes(5));
        Undisturbed = DisCoState.Open(new DisCoLayout(directory).State);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Asserts that a disturbed run ended with the undisturbed run's metrics, bit for bit.</summary>
    public void AssertSameMetrics(string experimentDirectory)
    {
        var disturbed = DisCoState.Open(new DisCoLayout(experimentDirectory).State);
        foreach (var phase in new[] { "baseline", "submodel-0", "submodel-1", "fine_tune" })
        {
            var (expected, actual) = (Undisturbed.Get(phase), disturbed.Get(phase));
            foreach (var measurement in new[] { "steps", "final_loss", "held_out_loss" })
                Assert.True(JsonNode.DeepEquals(expected[measurement], actual[measurement]),
                    $"{phase}.{measurement}: {actual[measurement]?.ToJsonString()} after the faults, {expected[measurement]?.ToJsonString()} undisturbed");
        }
        Assert.Equal((double)Undisturbed.Get("evaluate")["disco"]!["held_out_loss"]!, (double)disturbed.Get("evaluate")["disco"]!["held_out_loss"]!);
        Assert.Equal((double)Undisturbed.Get("evaluate")["baseline"]!["held_out_loss"]!, (double)disturbed.Get("evaluate")["baseline"]!["held_out_loss"]!);
    }
}
