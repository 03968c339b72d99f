using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Training.Tests;

public class DisCoExperimentLoaderTests
{
    private static string DemoPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "experiments", "disco-demo.json");
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException("experiments/disco-demo.json not found above the test directory");
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
        var e = Assert.Throws<DisCoExperimentException>(() => DisCoExperimentLoader.Parse(json, "bad.json"));
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
    public void MultiHeadLatentMoeIsRefusedForDisCo()
    {
        var json = File.ReadAllText(DemoPath())
            .Replace("\"kind\": \"moe\", \"moe\": { \"num_experts\": 4, \"top_k\": 2, \"expert_dim\": 256 }",
                "\"kind\": \"multi_head_latent_moe\", \"moe\": { \"num_experts\": 4, \"top_k\": 2, \"expert_dim\": 256 }, \"heads\": { \"num_heads\": 4 }");
        var e = Assert.Throws<DisCoExperimentException>(() => DisCoExperimentLoader.Parse(json));
        Assert.Contains(e.Problems, p => p.Path == "model.layers.ffn.kind");
    }
}
