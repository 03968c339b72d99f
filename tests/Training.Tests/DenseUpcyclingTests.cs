using Orleans.MoE.Model;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Training.Tests;

/// <summary>The dense-upcycling control's copy: one dense submodel into every expert slot of the MoE.</summary>
public class DenseUpcyclingTests
{
    private static void DisposeAll(IEnumerable<Tensor> tensors)
    {
        foreach (var t in tensors) t.Dispose();
    }

    /// <summary>A dense submodel of expert 1 whose every tensor has moved away from the initialisation, as after training.</summary>
    private static Dictionary<string, Tensor> TrainedDense(ModelConfig config, IReadOnlyDictionary<string, Tensor> initial)
    {
        var dense = ExpertDecomposition.SubmodelState(config, initial, expert: 1);
        var generator = new Generator(11);
        using var noGrad = GradMode.NoGrad();
        foreach (var t in dense.Values)
        {
            using var scope = DisposeScope.Begin();
            t.Add_(Tensor.Randn(t.Shape, generator), 0.1);
        }
        return dense;
    }

    [Theory]
    [InlineData(FfnKind.Moe)]
    [InlineData(FfnKind.LatentMoe)]
    public void EveryExpertSlotIsTheDenseExpertBitForBitAndTheBackboneIsTheDenseBackbone(FfnKind kind)
    {
        var config = DisCoDecompositionTests.Moe(kind, experts: 3);
        using var moe = new Transformer(config);
        var initial = moe.StateDict();
        var dense = TrainedDense(config, initial);
        var upcycled = DenseUpcycling.Upcycle(config, dense, routerSource: initial);

        Assert.Equal(initial.Keys.Order(), upcycled.Keys.Order());
        var experts = 0;
        foreach (var (name, tensor) in upcycled)
        {
            using var scope = DisposeScope.Begin();
            switch (ExpertSlots.Of(config, name))
            {
                case SlotKind.Expert:
                    experts++;
                    Assert.Equal(3, tensor.Shape[0]);
                    for (var k = 0; k < 3; k++)
                        Assert.True(tensor.Narrow(0, k, 1).ToBytes().AsSpan().SequenceEqual(dense[name].ToBytes()), $"{name}: slot {k} differs from the dense expert");
                    break;
                case SlotKind.Shared:
                    Assert.True(tensor.ToBytes().AsSpan().SequenceEqual(dense[name].ToBytes()), $"{name}: the backbone differs from the dense submodel's");
                    break;
                case SlotKind.Router:
                    Assert.True(tensor.Equal(initial[name]), $"{name}: the router is not the initial one");
                    break;
                case SlotKind.BalancingBias:
                    Assert.Equal(0.0, tensor.Abs().Max().Item());
                    break;
            }
        }
        Assert.True(experts >= 3, "no expert tensors were checked");
        DisposeAll(dense.Values);
        DisposeAll(upcycled.Values);
    }

    [Fact]
    public void WithoutARouterSourceEveryRouterRowIsTheDenseSubmodelsRow()
    {
        var config = DisCoDecompositionTests.Moe(experts: 3);
        using var moe = new Transformer(config);
        var dense = TrainedDense(config, moe.StateDict());
        var upcycled = DenseUpcycling.Upcycle(config, dense, routerSource: null);
        using var scope = DisposeScope.Begin();
        for (var k = 0; k < 3; k++)
            Assert.True(upcycled["layers.1.ffn.router"].Narrow(0, k, 1).Equal(dense["layers.1.ffn.router"]));
        DisposeAll(dense.Values);
        DisposeAll(upcycled.Values);
    }

    [Fact]
    public void TheUpcycledMoeComputesWhatTheDenseSubmodelComputes()
    {
        // The top-k gates sum to 1 and every expert is the same function, so routing changes nothing.
        var config = DisCoDecompositionTests.Moe(experts: 3);
        using var moe = new Transformer(config);
        var initial = moe.StateDict();
        var dense = TrainedDense(config, initial);
        using var submodel = new Transformer(ExpertDecomposition.SubmodelConfig(config));
        submodel.LoadStateDict(dense);
        var upcycled = DenseUpcycling.Upcycle(config, dense, routerSource: initial);
        using var merged = new Transformer(config);
        merged.LoadStateDict(upcycled);

        using var scope = DisposeScope.Begin();
        using var noGrad = GradMode.NoGrad();
        var tokens = Tensor.RandInt(0, 32, [2, 8], new Generator(3));   // (2, 8)
        using var expected = submodel.Forward(tokens);
        using var actual = merged.Forward(tokens);
        var difference = (actual.Logits - expected.Logits).Abs().Max().Item();
        Assert.True(difference < 1e-5, $"logits differ by {difference}");
        Assert.True(expected.Logits.Abs().Max().Item() > 1e-3, "the logits are all zero, so the comparison means nothing");
        DisposeAll(dense.Values);
        DisposeAll(upcycled.Values);
    }
}
