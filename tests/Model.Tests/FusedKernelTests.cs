using System.Text.Json.Nodes;
using Orleans.MoE.Config;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Tests;

// The fused router and expert bank inside whole models: the same losses, logits, load and gradients as the
// reference kernels, and the same bits from one run to the next.
public class FusedKernelTests
{
    public static TheoryData<string> RoutedKinds => ["moe", "moe_swiglu", "latent_moe", "mh_latent_moe", "mh_latent_moe_swiglu", "moe_aux"];

    private static ModelConfig Config(string kind, RoutedKernels kernels)
    {
        var ffn = kind switch
        {
            "moe" or "moe_aux" => TestConfigs.Moe(8, 2, 16),
            "moe_swiglu" => TestConfigs.Moe(8, 2, 16, Activation.Swiglu),
            "latent_moe" => TestConfigs.Latent(8, 2, 16, 8),
            "mh_latent_moe" => TestConfigs.MultiHead(4, 6, 2, 12),
            "mh_latent_moe_swiglu" => TestConfigs.MultiHead(4, 6, 3, 12, activation: Activation.Swiglu),
            _ => throw new ArgumentException(kind),
        };
        ffn = ffn with { Moe = ffn.Moe! with { Kernels = kernels } };
        var balancing = kind == "moe_aux" ? new BalancingConfig { AuxLossWeight = 0.01, ZLossWeight = 0.001 } : null;
        return TestConfigs.Model(ffn, balancing: balancing);
    }

    private static (Tensor Tokens, Tensor Targets) Batch(ulong seed)
    {
        using var generator = new Generator(seed);
        var tokens = Tensor.RandInt(0, 64, [3, 12], generator);
        var targets = Tensor.RandInt(0, 64, [3, 12], generator);
        return (tokens, targets);
    }

    /// <summary>One forward and backward: the outputs, the gradients by parameter name, and the load counted per routed layer.</summary>
    private static (ModelOutput Output, Dictionary<string, Tensor> Gradients, long[][] Counts) Step(ModelConfig config)
    {
        var model = new Transformer(config);
        var (tokens, targets) = Batch(9);
        var output = model.Forward(tokens, targets);
        output.Loss!.Backward();
        var gradients = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!);
        var counts = model.RoutedLayers.Select(r => r.Ffn.Statistics.Counts.ToArray()).ToArray();
        return (output, gradients, counts);
    }

    [Theory]
    [MemberData(nameof(RoutedKinds))]
    public void FusedKernelsGiveTheReferenceLossLogitsLoadAndEveryGradient(string kind)
    {
        using var scope = DisposeScope.Begin();
        var reference = Step(Config(kind, RoutedKernels.Reference));
        var fused = Step(Config(kind, RoutedKernels.Fused));

        Numerics.AssertClose(reference.Output.Loss!, fused.Output.Loss!, "loss");
        Numerics.AssertClose(reference.Output.Logits, fused.Output.Logits, "logits");
        if (reference.Output.AuxLoss is { } aux) Numerics.AssertClose(aux, fused.Output.AuxLoss!, "aux loss");
        else Assert.Null(fused.Output.AuxLoss);
        Assert.Equal(reference.Counts, fused.Counts);
        Assert.Equal(reference.Gradients.Keys.Order(), fused.Gradients.Keys.Order());
        foreach (var (name, grad) in reference.Gradients)
            Numerics.AssertClose(grad, fused.Gradients[name], $"gradient of {name}", 1e-5);
    }

    [Theory]
    [InlineData("moe")]
    [InlineData("mh_latent_moe_swiglu")]
    public void FusedKernelsGiveTheSameBitsFromRunToRun(string kind)
    {
        using var scope = DisposeScope.Begin();
        var first = Step(Config(kind, RoutedKernels.Fused));
        var second = Step(Config(kind, RoutedKernels.Fused));

        Assert.Equal(first.Output.Loss!.Item(), second.Output.Loss!.Item());
        foreach (var (name, grad) in first.Gradients)
            Assert.True(grad.Equal(second.Gradients[name]), $"gradient of {name} differs between two identical runs");
    }

    [Fact]
    public void KernelsAreAFieldOfTheModelFileWithFusedAsTheDefault()
    {
        const string json = """
            {
              "vocab_size": 64, "d_model": 32, "num_layers": 2, "max_seq_len": 16,
              "attention": { "num_heads": 4 },
              "layers": { "ffn": { "kind": "moe", "moe": { "num_experts": 4, "top_k": 2, "expert_dim": 8 } } }
            }
            """;
        Assert.Equal(RoutedKernels.Fused, ModelConfigLoader.Parse(json).Layers.Ffn.Moe!.Kernels);

        var root = JsonNode.Parse(json)!;
        root["layers"]!["ffn"]!["moe"]!["kernels"] = "reference";
        Assert.Equal(RoutedKernels.Reference, ModelConfigLoader.Parse(root.ToJsonString()).Layers.Ffn.Moe!.Kernels);

        root["layers"]!["ffn"]!["moe"]!["kernels"] = "triton";
        var e = Assert.Throws<ConfigException>(() => ModelConfigLoader.Parse(root.ToJsonString(), "model.json"));
        var problem = Assert.Single(e.Problems);
        Assert.Equal("layers.ffn.moe.kernels", problem.Path);
        Assert.Contains("fused, reference", problem.Message);
    }
}
