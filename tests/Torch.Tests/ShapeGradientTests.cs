using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// Views, copies and joins over x (2, 3, 4): the gradient of each must land back at the element it
// came from (a random upstream gradient catches a transposed or shifted route).
public class ShapeGradientTests
{
    private const ulong Seed = 37;

    private static readonly Dictionary<string, (Func<Tensor, Tensor> Op, long[] Shape)> Ops = new()
    {
        ["view"] = (x => x.View(4, 6), [4, 6]),
        ["view -1"] = (x => x.View(-1), [24]),
        ["reshape"] = (x => x.Reshape(6, -1), [6, 4]),
        ["reshape of a non-contiguous tensor"] = (x => x.Transpose(0, 2).Reshape(4, 6), [4, 6]),
        ["transpose"] = (x => x.Transpose(0, 2), [4, 3, 2]),
        ["T"] = (x => x.T, [2, 4, 3]),
        ["permute"] = (x => x.Permute(2, 0, 1), [4, 2, 3]),
        ["contiguous of a permuted tensor"] = (x => x.Permute(1, 2, 0).Contiguous(), [3, 4, 2]),
        ["expand"] = (x => x.Narrow(1, 0, 1).Expand(2, 3, 4), [2, 3, 4]),
        ["expand with a new leading dim"] = (x => x.Expand(5, 2, 3, 4), [5, 2, 3, 4]),
        ["squeeze"] = (x => x.Narrow(1, 1, 1).Squeeze(1), [2, 4]),
        ["unsqueeze"] = (x => x.Unsqueeze(1), [2, 1, 3, 4]),
        ["unsqueeze -1"] = (x => x.Unsqueeze(-1), [2, 3, 4, 1]),
        ["flatten"] = (x => x.Flatten(), [24]),
        ["flatten dims 1..2"] = (x => x.Flatten(1, 2), [2, 12]),
        ["narrow"] = (x => x.Narrow(2, 1, 2), [2, 3, 2]),
        ["select"] = (x => x.Select(1, 2), [2, 4]),
        ["select -1"] = (x => x.Select(-1, 0), [2, 3]),
        ["slice with step"] = (x => x.Slice(2, 0, 4, 2), [2, 3, 2]),
        ["slice"] = (x => x.Slice(1, 1, 3), [2, 2, 4]),
        ["repeat"] = (x => x.Repeat(2, 1, 3), [4, 3, 12]),
        ["repeat with a new leading dim"] = (x => x.Repeat(2, 1, 1, 1), [2, 2, 3, 4]),
        ["tril"] = (x => x.Tril(), [2, 3, 4]),
        ["tril diagonal -1"] = (x => x.Tril(-1), [2, 3, 4]),
        ["triu"] = (x => x.Triu(), [2, 3, 4]),
        ["triu diagonal 1"] = (x => x.Triu(1), [2, 3, 4]),
    };

    public static TheoryData<string> Cases => new(Ops.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientMatchesFiniteDifferences(string name)
    {
        var (op, shape) = Ops[name];
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Randn(generator, 2, 3, 4);

        Assert.Equal(shape, op(x).Shape);
        GradCheck.Assert(op, x);
    }

    [Fact]
    public void CatOfDifferentSizesMatchesFiniteDifferences()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var a = Randn(generator, 2, 1, 4);
        var b = Randn(generator, 2, 3, 4);

        GradCheck.Assert(xs => Tensor.Cat(xs, dim: 1), [a, b]);
        GradCheck.Assert(xs => Tensor.Cat([xs[1], xs[0], xs[1]], dim: -2), [a, b]);
    }

    [Fact]
    public void StackMatchesFiniteDifferences()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var a = Randn(generator, 3, 2);
        var b = Randn(generator, 3, 2);

        GradCheck.Assert(xs => Tensor.Stack(xs), [a, b]);
        GradCheck.Assert(xs => Tensor.Stack(xs, dim: 2), [a, b]);
    }

    // Each piece gets its own upstream gradient; backward runs once per piece and accumulates.
    [Fact]
    public void SplitAndChunkMatchFiniteDifferences()
    {
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Randn(generator, 2, 5, 2);

        GradCheck.AssertOutputs(xs => xs[0].Split([1L, 3L, 1L], dim: 1), [x]);
        GradCheck.AssertOutputs(xs => xs[0].Split(2, dim: 1), [x]);
        GradCheck.AssertOutputs(xs => xs[0].Chunk(3, dim: 1), [x]);
        GradCheck.AssertOutputs(xs => xs[0].Chunk(2, dim: 0), [x]);
    }

    [Fact]
    public void SplitAndChunkCutWhereTorchDoes()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.Arange(7);

        Assert.Equal([[0L, 1, 2], [3L, 4, 5], [6L]], x.Split(3).Select(p => p.ToArray<long>()));
        Assert.Equal([[0L, 1], [2L, 3, 4, 5], [6L]], x.Split([2L, 4L, 1L]).Select(p => p.ToArray<long>()));
        // torch.chunk(7, 4): pieces of ceil(7 / 4) = 2, so four chunks 2, 2, 2, 1.
        Assert.Equal([2L, 2, 2, 1], x.Chunk(4).Select(p => p.NumElements));
        // torch.chunk(6, 4): pieces of 2, so only three chunks.
        Assert.Equal(3, Tensor.Arange(6).Chunk(4).Length);
    }

    // Forward values on x = arange(24).view(2, 3, 4), where x[i, j, k] = 12 i + 4 j + k.
    [Fact]
    public void ForwardValuesAreTheIndexedElements()
    {
        using var scope = DisposeScope.Begin();
        var x = Tensor.Arange(24).View(2, 3, 4);

        Assert.Equal([0L, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21], x.Permute(2, 0, 1).Narrow(0, 0, 2).Contiguous().ToArray<long>());
        Assert.Equal([0L, 12, 1, 13, 2, 14, 3, 15], x.Select(1, 0).T.Contiguous().ToArray<long>());
        Assert.Equal([5L, 6, 17, 18], x.Narrow(1, 1, 1).Narrow(2, 1, 2).Contiguous().ToArray<long>());
        Assert.Equal([4L, 6, 8, 10, 16, 18, 20, 22], x.Slice(1, 1, 3).Slice(2, 0, 4, 2).Contiguous().ToArray<long>());
        Assert.Equal([0L, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3], Tensor.Arange(4).View(2, 2).Repeat(1, 3).ToArray<long>());
        Assert.Equal([1L, 0, 0, 1, 1, 0, 1, 1, 1], Tensor.Ones([3, 3], ScalarType.Int64).Tril().ToArray<long>());
        Assert.Equal([0L, 1, 1, 0, 0, 1, 0, 0, 0], Tensor.Ones([3, 3], ScalarType.Int64).Triu(1).ToArray<long>());
        Assert.Equal([0L, 1, 2, 0, 1, 2], Tensor.Arange(3).Unsqueeze(0).Expand(2, 3).Contiguous().ToArray<long>());
        Assert.Equal([0L, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7], Tensor.Cat([x.Select(1, 0), x.Select(1, 1)], dim: 0).Narrow(0, 0, 3).Flatten().ToArray<long>());
        Assert.Equal([0L, 4, 1, 5], Tensor.Stack([x.Select(1, 0), x.Select(1, 1)], dim: 2).Select(0, 0).Narrow(0, 0, 2).Flatten().ToArray<long>());
    }
}
