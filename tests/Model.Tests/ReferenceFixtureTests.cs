using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Tests;

/// <summary>
/// Outputs, losses, expert loads, bias updates and every parameter gradient against the PyTorch
/// reference in tests/fixtures/make_model_fixtures.py, for each FFN kind and for whole 2-layer models.
/// </summary>
public class ReferenceFixtureTests
{
    [Theory]
    [InlineData("ffn_mlp_gelu", RoutedKernels.Fused)]
    [InlineData("ffn_mlp_swiglu", RoutedKernels.Fused)]
    [InlineData("ffn_moe_gelu", RoutedKernels.Fused)]
    [InlineData("ffn_moe_gelu", RoutedKernels.Reference)]
    [InlineData("ffn_moe_swiglu", RoutedKernels.Fused)]
    [InlineData("ffn_moe_swiglu", RoutedKernels.Reference)]
    [InlineData("ffn_latent_moe", RoutedKernels.Fused)]
    [InlineData("ffn_latent_moe", RoutedKernels.Reference)]
    [InlineData("ffn_mh_latent_moe", RoutedKernels.Fused)]
    [InlineData("ffn_mh_latent_moe", RoutedKernels.Reference)]
    [InlineData("ffn_mh_latent_moe_swiglu", RoutedKernels.Fused)]
    [InlineData("ffn_mh_latent_moe_swiglu", RoutedKernels.Reference)]
    public void FeedForwardMatchesPyTorch(string name, RoutedKernels kernels)
    {
        using var scope = DisposeScope.Begin();
        using var fx = Fixture.Load(name);
        using var init = new WeightInit(seed: 1, std: 0.02, numLayers: fx.Config.NumLayers);
        using var ffn = TransformerBlock.CreateFfn(WithKernels(fx.Config, kernels), 0, init);
        ffn.LoadStateDict(fx.WithPrefix("param."));

        var x = fx["input.x"].Clone().RequiresGrad_();
        var output = ffn.Forward(x);
        var terms = output.Output * fx["input.probe"];
        var loss = terms.Sum();
        var lossScale = terms.Abs().Sum().Item() + 1;   // the sum cancels: measure its error against its terms
        if (output.AuxLoss is { } aux)
        {
            Numerics.AssertClose(fx["expected.aux_loss"], aux, "aux loss");
            loss = loss + aux;
        }
        else
        {
            Assert.False(fx.Has("expected.aux_loss"), "the reference has an auxiliary loss but the layer returned none");
        }
        Numerics.AssertClose(fx["expected.y"], output.Output, "output");
        Numerics.AssertClose(fx["expected.loss"], loss, "loss", scale: lossScale);

        loss.Backward();
        AssertEveryGradient(fx, ffn.NamedParameters().Select(p => (p.Name, (Tensor)p.Parameter)));
        Numerics.AssertClose(fx["grad.input.x"], x.Grad!, "gradient of the input");

        if (ffn is RoutedFeedForward routed)
        {
            Assert.Equal(fx["expected.counts"].ToArray<long>(), routed.Statistics.Counts.ToArray());
            routed.EndStep(0, fx.BiasRate);
            Numerics.AssertClose(fx["bias_after.balancing_bias"], routed.BalancingBias, "bias after one update", 1e-6);
            Assert.All(routed.Statistics.Counts.ToArray(), c => Assert.Equal(0, c));
        }
    }

    [Theory]
    [InlineData("model_moe", RoutedKernels.Fused)]
    [InlineData("model_moe", RoutedKernels.Reference)]
    [InlineData("model_mh_latent_moe", RoutedKernels.Fused)]
    [InlineData("model_mh_latent_moe", RoutedKernels.Reference)]
    [InlineData("model_latent_moe", RoutedKernels.Fused)]
    [InlineData("model_latent_moe", RoutedKernels.Reference)]
    public void WholeModelMatchesPyTorch(string name, RoutedKernels kernels)
    {
        using var scope = DisposeScope.Begin();
        using var fx = Fixture.Load(name);
        using var model = new Transformer(WithKernels(fx.Config, kernels));
        model.LoadStateDict(fx.WithPrefix("param."));

        var output = model.Forward(fx["input.tokens"], fx["input.targets"]);
        Numerics.AssertClose(fx["expected.logits"], output.Logits, "logits");
        Numerics.AssertClose(fx["expected.lm_loss"], output.LanguageModelLoss!, "language-model loss");
        Numerics.AssertClose(fx["expected.loss"], output.Loss!, "loss");
        if (fx.Has("expected.aux_loss")) Numerics.AssertClose(fx["expected.aux_loss"], output.AuxLoss!, "aux loss");
        else Assert.Null(output.AuxLoss);

        output.Loss!.Backward();
        AssertEveryGradient(fx, model.NamedParameters().Select(p => (p.Name, (Tensor)p.Parameter)));

        foreach (var (layer, ffn) in model.RoutedLayers)
            Assert.Equal(fx[$"expected.counts.{layer}"].ToArray<long>(), ffn.Statistics.Counts.ToArray());
        var metrics = model.UpdateBalancingBiases(fx.BiasRate);
        Assert.NotEmpty(metrics);
        foreach (var (layer, ffn) in model.RoutedLayers)
        {
            var biasName = $"layers.{layer}.ffn.balancing_bias";
            Numerics.AssertClose(fx[$"bias_after.{biasName}"], ffn.BalancingBias, biasName + " after one update", 1e-6);
        }
    }

    /// <summary>The fixture's model with its routed layers computed by the given kernels (unchanged for dense FFNs).</summary>
    private static ModelConfig WithKernels(ModelConfig config, RoutedKernels kernels) =>
        config.Layers.Ffn.Moe is { } moe
            ? config with { Layers = config.Layers with { Ffn = config.Layers.Ffn with { Moe = moe with { Kernels = kernels } } } }
            : config;

    /// <summary>Every parameter has a reference gradient and matches it, and the reference has no gradient the model lacks.</summary>
    private static void AssertEveryGradient(Fixture fx, IEnumerable<(string Name, Tensor Parameter)> parameters)
    {
        var names = new List<string>();
        foreach (var (name, parameter) in parameters)
        {
            names.Add(name);
            var grad = parameter.Grad;
            Assert.True(grad is not null, $"{name} got no gradient");
            Numerics.AssertClose(fx[$"grad.{name}"], grad, $"gradient of {name}");
        }
        var referenceGradients = fx.WithPrefix("grad.").Keys.Where(k => !k.StartsWith("input.", StringComparison.Ordinal));
        Assert.Equal(referenceGradients.OrderBy(n => n), names.OrderBy(n => n));
    }
}
