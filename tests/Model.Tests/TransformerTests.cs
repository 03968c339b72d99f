using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Tests;

public class TransformerTests
{
    private static (Tensor Tokens, Tensor Targets) Batch(ulong seed, int batch = 2, int length = 10, int vocab = 64)
    {
        var g = new Generator(seed);
        return (Tensor.RandInt(0, vocab, [batch, length], g), Tensor.RandInt(0, vocab, [batch, length], g));
    }

    [Fact]
    public void TheSameSeedGivesTheSameWeightsAndLossesAndAnotherSeedDoesNot()
    {
        using var scope = DisposeScope.Begin();
        var config = TestConfigs.Model(TestConfigs.MultiHead(4, 8, 2, 16), balancing: new BalancingConfig { AuxLossWeight = 0.01, ZLossWeight = 0.001 });
        var (tokens, targets) = Batch(1);

        double[] Run(ModelConfig c)
        {
            using var model = new Transformer(c);
            var losses = new List<double>();
            for (var step = 0; step < 2; step++)
            {
                var output = model.Forward(tokens, targets);
                output.Loss!.Backward();
                losses.Add(output.Loss.Item());
                model.UpdateBalancingBiases();
            }
            var gradients = model.Parameters().Select(p => p.Grad!.Square().Sum().Item());
            return [.. losses, .. gradients];
        }

        var first = Run(config);
        Assert.Equal(first, Run(config));
        Assert.NotEqual(first, Run(config with { Init = new InitConfig { Seed = 4 } }));
    }

    [Fact]
    public void InitialisationUsesTheConfiguredStdAndScalesOutputProjections()
    {
        var config = TestConfigs.Model(TestConfigs.MultiHead(4, 8, 2, 32), dModel: 128, numLayers: 2, vocab: 256) with
        {
            Init = new InitConfig { Std = 0.05, Seed = 9 },
        };
        using var model = new Transformer(config);
        double Std(string name)
        {
            using var scope = DisposeScope.Begin();
            var values = model.StateDict()[name].To(ScalarType.Float64).ToArray<double>();
            return Math.Sqrt(values.Select(v => v * v).Average());
        }
        var scaled = 0.05 / Math.Sqrt(2 * 2);
        Assert.InRange(Std("token_embedding"), 0.05 * 0.97, 0.05 * 1.03);
        Assert.InRange(Std("layers.0.attn.wqkv"), 0.05 * 0.97, 0.05 * 1.03);
        Assert.InRange(Std("layers.0.attn.wo"), scaled * 0.97, scaled * 1.03);
        Assert.InRange(Std("layers.0.ffn.w_down"), scaled * 0.97, scaled * 1.03);
        Assert.InRange(Std("layers.1.ffn.w_out"), scaled * 0.97, scaled * 1.03);
        Assert.InRange(Std("layers.1.ffn.experts.w_down"), 0.05 * 0.97, 0.05 * 1.03);   // as the paper's code: unscaled
        Assert.Equal(1.0, Std("final_norm.weight"));
    }

    [Fact]
    public void LogitsDependOnlyOnEarlierTokens()
    {
        using var scope = DisposeScope.Begin();
        using var model = new Transformer(TestConfigs.Model(TestConfigs.Moe(4, 4, 16)));   // k = N_e: routing cannot differ
        var (tokens, _) = Batch(2, batch: 1);
        var changed = tokens.Clone();
        using (GradMode.NoGrad()) changed.Narrow(1, 6, 1).Fill_(0 == tokens.Narrow(1, 6, 1).ItemInt64() ? 1 : 0);

        var a = model.Forward(tokens).Logits;
        var b = model.Forward(changed).Logits;
        Assert.True(a.Narrow(1, 0, 6).Equal(b.Narrow(1, 0, 6)), "a later token changed an earlier position's logits");
        Assert.False(a.Narrow(1, 6, 4).Equal(b.Narrow(1, 6, 4)));
    }

    [Fact]
    public void LoadIsCountedOverEveryMicroBatchOfAStepAndOnlyInTraining()
    {
        using var scope = DisposeScope.Begin();
        var config = TestConfigs.Model(TestConfigs.MultiHead(4, 8, 2, 16), numLayers: 3);
        using var model = new Transformer(config) { TrackRouterEntropy = true };
        var biasBefore = model.RoutedLayers[0].Ffn.BalancingBias.ToArray<float>();

        model.Eval();
        model.Forward(Batch(3).Tokens);
        Assert.All(model.RoutingMetrics(), m => Assert.Equal(0, m.Tokens));

        model.Train();
        model.Forward(Batch(4).Tokens);
        model.Forward(Batch(5).Tokens);
        var metrics = model.UpdateBalancingBiases(rate: 0.01);

        Assert.Equal(2 * 4, metrics.Count);   // 2 routed layers x 4 heads
        Assert.Equal(new[] { 1, 2 }, metrics.Select(m => m.Layer).Distinct());
        Assert.Equal([0, 1, 2, 3], metrics.Where(m => m.Layer == 1).Select(m => m.Head!.Value));
        foreach (var m in metrics)
        {
            Assert.Equal(2 * 2 * 10, m.Tokens);                       // two micro-batches of 2 x 10 tokens
            Assert.Equal(m.Tokens * 2, m.TokensPerExpert.Sum());      // dropless: tokens x k assignments
            Assert.InRange(m.RouterEntropy!.Value, 0, Math.Log(8));
        }
        var biasAfter = model.RoutedLayers[0].Ffn.BalancingBias.ToArray<float>();
        Assert.NotEqual(biasBefore, biasAfter);
        Assert.All(model.RoutingMetrics(), m => Assert.Equal(0, m.Tokens));   // counters start again
    }

    [Fact]
    public void TiedEmbeddingsShareOneMatrix()
    {
        using var scope = DisposeScope.Begin();
        using var model = new Transformer(TestConfigs.Model(TestConfigs.Mlp(), tie: true));
        Assert.Same(model.TokenEmbedding, model.Classifier);
        Assert.DoesNotContain(model.NamedParameters(), p => p.Name == "classifier");
        var (tokens, targets) = Batch(6);
        model.Forward(tokens, targets).Loss!.Backward();
        Assert.NotNull(model.TokenEmbedding.Grad);
    }

    [Fact]
    public void SequencesLongerThanTheConfiguredMaximumAreRefusedWithTheLimit()
    {
        using var scope = DisposeScope.Begin();
        using var model = new Transformer(TestConfigs.Model(TestConfigs.Mlp()));
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros([1, 17], ScalarType.Int64)));
        Assert.Contains("max_seq_len (16)", e.Message);
    }
}
