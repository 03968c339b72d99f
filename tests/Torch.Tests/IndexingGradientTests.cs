using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// Gathers and scatters by Int64 indices. Every index list repeats an index, so the backward pass
// must accumulate (not overwrite) gradients that land on the same row or element.
public class IndexingGradientTests
{
    private const ulong Seed = 41;

    [Fact]
    public void EmbeddingAccumulatesRepeatedRows()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var weight = Randn(generator, 5, 3);
        var indices = I64([4, 0, 4, 2, 4, 1], 2, 3);

        GradCheck.Assert(w => Functional.Embedding(w, indices), weight);

        var rows = Functional.Embedding(weight, indices); // (2, 3, 3)
        Assert.Equal([2L, 3, 3], rows.Shape);
        var w5 = weight.ToArray<double>();
        Assert.Equal(w5[12..15], rows.Select(0, 0).Select(0, 0).ToArray<double>());
        Assert.Equal(w5[0..3], rows.Select(0, 0).Select(0, 1).ToArray<double>());
        Assert.Equal(w5[6..9], rows.Select(0, 1).Select(0, 0).ToArray<double>());
    }

    [Fact]
    public void IndexSelectAlongEitherDimension()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Randn(generator, 4, 3);

        GradCheck.Assert(t => t.IndexSelect(0, I64([3, 1, 3, 0])), x);
        GradCheck.Assert(t => t.IndexSelect(1, I64([2, 2, 0])), x);

        var xv = x.ToArray<double>();
        Assert.Equal(xv[9..12].Concat(xv[3..6]).ToArray(), x.IndexSelect(0, I64([3, 1])).ToArray<double>());
    }

    [Fact]
    public void GatherAlongEitherDimension()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Randn(generator, 3, 4);

        GradCheck.Assert(t => t.Gather(1, I64([0, 0, 3, 2, 1, 2, 3, 3, 1], 3, 3)), x);
        GradCheck.Assert(t => t.Gather(0, I64([2, 0, 1, 2, 2, 2, 0, 1], 2, 4)), x);

        var xv = x.ToArray<double>();
        // out[i, j] = x[i, index[i, j]]
        Assert.Equal([xv[3], xv[0], xv[4 + 2], xv[4 + 2]], x.Gather(1, I64([3, 0, 2, 2], 2, 2)).ToArray<double>());
    }

    [Fact]
    public void ScatterAddSendsGradientToBothSelfAndSource()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var self = Randn(generator, 3, 4);
        var source = Randn(generator, 2, 4);
        var index = I64([0, 2, 2, 1, 2, 2, 0, 0], 2, 4); // repeated targets within a column

        GradCheck.Assert(xs => xs[0].ScatterAdd(0, index, xs[1]), [self, source]);

        var zeros = Tensor.Zeros([3], ScalarType.Float64);
        var summed = zeros.ScatterAdd(0, I64([2, 0, 2]), F64([1, 10, 100]));
        Assert.Equal([10.0, 0.0, 101.0], summed.ToArray<double>());
        Assert.Equal([0.0, 0.0, 0.0], zeros.ToArray<double>()); // out of place
    }

    [Fact]
    public void IndexAddSendsGradientToBothSelfAndSource()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var self = Randn(generator, 4, 3);
        var source = Randn(generator, 3, 3);
        var rows = I64([0, 2, 0]);
        var columns = I64([1, 1, 0]);

        GradCheck.Assert(xs => xs[0].IndexAdd(0, rows, xs[1]), [self, source]);
        GradCheck.Assert(xs => xs[0].IndexAdd(1, columns, xs[1]), [self, Randn(generator, 4, 3)]);

        var summed = Tensor.Zeros([3, 2], ScalarType.Float64).IndexAdd(0, I64([2, 2]), F64([1, 2, 10, 20], 2, 2));
        Assert.Equal([0.0, 0, 0, 0, 11, 22], summed.ToArray<double>());
    }
}
