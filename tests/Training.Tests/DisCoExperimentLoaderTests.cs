using Orleans.MoE.Config;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Training.Tests;

public class DisCoExperimentLoaderTests
{
    private static string DemoPath() => ExperimentPath("disco-demo.json");

    private static string ExperimentPath(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "experiments", file);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"experiments/{file} not found above the test directory");
    }

    [Fact]
    public void TheLargerExperimentLoadsWithTheControlOnTheSPhasesTokens()
    {
        var config = DisCoExperimentLoader.LoadFile(ExperimentPath("disco-e4-larger.json"));
        Assert.Equal(4, config.Experts);
        Assert.True(config.DenseUpcycling.Enabled);
        Assert.Equal(4 * config.Submodels.Steps, config.DenseUpcycling.ResolvedSteps(config.Submodels, config.Experts));
    }

    [Fact]
    public void TheDemoExperimentLoads()
    {
        var config = DisCoExperimentLoader.LoadFile(DemoPath());
        Assert.Equal("disco-demo", config.Name);
        Assert.Equal(4, config.Experts);
        Assert.Equal(BackboneAveraging.WeightedByTokens, config.Integration.Averaging);
        Assert.Equal(0.35, config.Prices.LowCost.DollarsPerHour);
    }

    [Fact]
    public void EveryProblemIsListedBeforeAnyWorkStarts()
    {
        var json = File.ReadAllText(DemoPath())
            .Replace("\"top_k\": 2", "\"top_k\": 9")                      // model: k > N_e
            .Replace("\"lr\": 1e-3", "\"lr\": -1")                        // fine_tune: negative rate
            .Replace("\"method\": \"kmeans\"", "\"method\": \"spectral\"")  // unknown method
            .Replace("\"validation_fraction\": 0.05", "\"validation_fraction\": 0")
            .Replace("\"name\": \"disco-demo\",", "\"name\": \"disco-demo\", \"experts\": 4,");
        var e = Assert.Throws<ConfigException>(() => DisCoExperimentLoader.Parse(json, "bad.json"));
        var paths = e.Problems.Select(p => p.Path).ToList();
        Assert.Contains("model.layers.ffn.moe.top_k", paths);
        Assert.Contains("fine_tune.optimizer.lr", paths);
        Assert.Contains("clustering.method", paths);
        Assert.Contains("data.validation_fraction", paths);
        Assert.Contains("experts", paths);
        Assert.StartsWith("bad.json: ", e.Message);
        Assert.Contains("kmeans, random", e.Message);
    }

    [Fact]
    public void TheDemoLeavesTheDenseUpcyclingControlOff()
    {
        Assert.False(DisCoExperimentLoader.LoadFile(DemoPath()).DenseUpcycling.Enabled);
    }

    [Theory]
    [InlineData("{ }", true, 600L, 0)]                                      // E x submodels.steps = 4 x 150
    [InlineData("{ \"budget\": \"one_submodel\", \"expert\": 3 }", true, 150L, 3)]
    [InlineData("{ \"steps\": 77 }", true, 77L, 0)]
    [InlineData("{ \"enabled\": false }", false, 600L, 0)]
    public void TheDenseUpcyclingSectionEnablesTheControlWithItsBudget(string section, bool enabled, long steps, int expert)
    {
        var config = DisCoExperimentLoader.Parse(WithControl(section));
        Assert.Equal(enabled, config.DenseUpcycling.Enabled);
        Assert.Equal(steps, config.DenseUpcycling.ResolvedSteps(config.Submodels, config.Experts));
        Assert.Equal(expert, config.DenseUpcycling.Expert);
    }

    [Fact]
    public void AMalformedDenseUpcyclingSectionIsRejectedWithEveryProblem()
    {
        var json = WithControl("{ \"enabled\": \"yes\", \"budget\": \"double\", \"expert\": 4, \"copies\": 4 }")
            .Replace("\"lr\": 1e-3", "\"lr\": -1");   // a problem elsewhere is listed with them
        var e = Assert.Throws<ConfigException>(() => DisCoExperimentLoader.Parse(json, "bad.json"));
        var paths = e.Problems.Select(p => p.Path).ToList();
        Assert.Contains("dense_upcycling.enabled", paths);
        Assert.Contains("dense_upcycling.budget", paths);
        Assert.Contains("dense_upcycling.expert", paths);
        Assert.Contains("dense_upcycling.copies", paths);
        Assert.Contains("fine_tune.optimizer.lr", paths);
        Assert.Contains("all_submodels, one_submodel", e.Message);
        Assert.Contains("use 0 to 3", e.Message);
    }

    [Theory]
    [InlineData("{ \"steps\": 0 }", "at least 1")]
    [InlineData("{ \"steps\": 100, \"budget\": \"one_submodel\" }", "either steps or budget")]
    [InlineData("[ 1 ]", "dense_upcycling")]
    public void ADenseUpcyclingBudgetThatCannotBeResolvedIsRejected(string section, string message)
    {
        var e = Assert.Throws<ConfigException>(() => DisCoExperimentLoader.Parse(WithControl(section)));
        Assert.Contains(e.Problems, p => p.Path.StartsWith("dense_upcycling", StringComparison.Ordinal) && (p.Path + " " + p.Message).Contains(message));
    }

    private static string WithControl(string section) =>
        File.ReadAllText(DemoPath()).Replace("\"name\": \"disco-demo\",", $"\"name\": \"disco-demo\", \"dense_upcycling\": {section},");

    [Fact]
    public void MultiHeadLatentMoeIsRefusedForDisCo()
    {
        var json = File.ReadAllText(DemoPath())
            .Replace("\"kind\": \"moe\", \"moe\": { \"num_experts\": 4, \"top_k\": 2, \"expert_dim\": 256 }",
                "\"kind\": \"multi_head_latent_moe\", \"moe\": { \"num_experts\": 4, \"top_k\": 2, \"expert_dim\": 256 }, \"heads\": { \"num_heads\": 4 }");
        var e = Assert.Throws<ConfigException>(() => DisCoExperimentLoader.Parse(json));
        Assert.Contains(e.Problems, p => p.Path == "model.layers.ffn.kind");
    }
    [Fact]
    public void ARecordedExperimentIsTheSameWhateverItsFilesCommentsAndFormatting()
    {
        var text = File.ReadAllText(DemoPath());
        var config = DisCoExperimentLoader.Parse(text);
        var canonical = DisCoExperimentLoader.ToCanonicalJson(config);
        Assert.True(DisCoExperimentLoader.IsSameExperiment(canonical, config));
        // A directory written before experiment.json was canonical holds the file's own text.
        Assert.True(DisCoExperimentLoader.IsSameExperiment(text, config));
        var edited = text.Replace("// The F-phase:", "// Edited: the F-phase:").Replace("\"seed\": 2\n  },", "\"seed\": 2, \"micro_batches\": 1\n  },");
        Assert.NotEqual(text, edited);
        Assert.True(DisCoExperimentLoader.IsSameExperiment(canonical, DisCoExperimentLoader.Parse(edited)));
        Assert.False(DisCoExperimentLoader.IsSameExperiment(canonical, config with { Name = "other" }));
        Assert.False(DisCoExperimentLoader.IsSameExperiment(text.Replace("\"steps\": 300", "\"steps\": 301"), config));
        Assert.False(DisCoExperimentLoader.IsSameExperiment("{}", config));
        Assert.False(DisCoExperimentLoader.IsSameExperiment("not json", config));
    }

    [Fact]
    public void ThePricesOfAClassKeepThePapersDefaultsForTheFieldsLeftOut()
    {
        var text = File.ReadAllText(DemoPath());
        var at = text.IndexOf("\"prices\"", StringComparison.Ordinal);
        var json = text[..at] + "\"prices\": { \"low_cost\": { \"relative_throughput\": 2 } }\n}\n";
        var prices = DisCoExperimentLoader.Parse(json).Prices;
        Assert.Equal(new DeviceClass("low-cost", 0.35, 2), prices.LowCost);
        Assert.Equal(DevicePriceTable.Paper.HighMemory, prices.HighMemory);
        Assert.Equal(new DeviceClass("low-cost", 0.35), DevicePriceTable.Paper.LowCost);   // the shared default is untouched
    }

    [Fact]
    public void TheClusterSectionIsReadAndEveryProblemInItIsNamed()
    {
        string With(string section) => File.ReadAllText(DemoPath()).Replace("\"name\": \"disco-demo\",", $"\"name\": \"disco-demo\", \"cluster\": {section},");
        var config = DisCoExperimentLoader.Parse(With("""{ "max_failures": 1, "fine_tune_ranks": 2, "elastic": true, "high_memory_class": "a100" }"""));
        Assert.Equal((1, 2, true, "a100", "low-cost"), (config.Cluster.MaxFailures, config.Cluster.FineTuneRanks, config.Cluster.Elastic,
            config.Cluster.HighMemoryClass, config.Cluster.LowCostClass));

        var e = Assert.Throws<ConfigException>(() => DisCoExperimentLoader.Parse(
            With("""{ "max_failures": -1, "fine_tune_ranks": 3, "parallel": "pipeline", "job_stall_timeout_seconds": 0, "retries": 2 }""")));
        var problems = e.Problems.ToDictionary(p => p.Path, p => p.Message);
        Assert.Contains("0 or more", problems["cluster.max_failures"]);
        Assert.Contains("'pipeline' is not a mode", problems["cluster.parallel"]);
        Assert.Contains("must be positive", problems["cluster.job_stall_timeout_seconds"]);
        Assert.Contains("cluster.retries", problems.Keys);
        var ranks = Assert.Throws<ConfigException>(() => DisCoExperimentLoader.Parse(With("""{ "fine_tune_ranks": 3 }""")));
        Assert.Contains(ranks.Problems, p => p.Path == "cluster.fine_tune_ranks" && p.Message.Contains("do not divide the model's 4 experts"));
    }
}
