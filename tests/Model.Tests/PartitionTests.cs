using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Tests;

public class PartitionTests
{
    [Fact]
    public void APartOfAMultiHeadLayerHoldsExactlyThoseHeadsOfTheWholeModel()
    {
        var config = TestConfigs.Model(TestConfigs.MultiHead(numHeads: 4, numExperts: 4, topK: 2, expertDim: 16));
        using var whole = new Transformer(config);
        using var part = new Transformer(config, partition: new ExpertPartition(1, 2));
        var wholeState = whole.StateDict();
        var partial = part.PartialTensors;

        Assert.Equal(
            ["layers.1.ffn.balancing_bias", "layers.1.ffn.experts.w_down", "layers.1.ffn.experts.w_up", "layers.1.ffn.router",
             "layers.2.ffn.balancing_bias", "layers.2.ffn.experts.w_down", "layers.2.ffn.experts.w_up", "layers.2.ffn.router"],
            partial.Keys.Order());
        Assert.All(partial.Values, s => Assert.Equal(new RowSlice(2, 2, 4), s));
        foreach (var (name, tensor) in part.StateDict())
        {
            using var scope = DisposeScope.Begin();
            var expected = partial.TryGetValue(name, out var slice) ? wholeState[name].Narrow(0, slice.Start, slice.Count) : wholeState[name];
            Assert.True(expected.Equal(tensor), $"{name} differs from the whole model's");
        }
    }

    [Fact]
    public void APartOfAnMoeHoldsSomeExpertsAndTheWholeRouter()
    {
        var config = TestConfigs.Model(TestConfigs.Moe(numExperts: 6, topK: 2, expertDim: 16));
        using var whole = new Transformer(config);
        using var part = new Transformer(config, partition: new ExpertPartition(2, 3));
        Assert.Equal(new RowSlice(4, 2, 6), part.PartialTensors["layers.2.ffn.experts.w_up"]);
        Assert.False(part.PartialTensors.ContainsKey("layers.2.ffn.router"));
        using var scope = DisposeScope.Begin();
        Assert.True(whole.StateDict()["layers.2.ffn.experts.w_up"].Narrow(0, 4, 2).Equal(part.StateDict()["layers.2.ffn.experts.w_up"]));
        Assert.True(whole.StateDict()["layers.2.ffn.router"].Equal(part.StateDict()["layers.2.ffn.router"]));
    }

    [Fact]
    public void APartialLayerRefusesToRunWithoutAnExchange()
    {
        var config = TestConfigs.Model(TestConfigs.MultiHead(numHeads: 4, numExperts: 4, topK: 2, expertDim: 16));
        using var part = new Transformer(config, partition: new ExpertPartition(0, 2));
        using var scope = DisposeScope.Begin();
        var error = Assert.Throws<InvalidOperationException>(() => part.Forward(Tensor.Zeros([1, 4], ScalarType.Int64)));
        Assert.Contains("heads [0, 2) of 4", error.Message);
    }

    [Fact]
    public void APartitionThatDoesNotDivideTheHeadsSaysSo()
    {
        var config = TestConfigs.Model(TestConfigs.MultiHead(numHeads: 4, numExperts: 4, topK: 2, expertDim: 16));
        var error = Assert.Throws<ArgumentException>(() => new Transformer(config, partition: new ExpertPartition(0, 3)));
        Assert.Contains("4 heads cannot be split into 3 equal parts", error.Message);
    }
}
