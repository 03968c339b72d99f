using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// Reductions, normalisations, scans and order statistics over x (3, 4). Random normal inputs have
// no ties (and no gap smaller than the finite-difference step), where max, sort and top-k are smooth.
public class ReductionGradientTests
{
    private const ulong Seed = 23;

    private static readonly Dictionary<string, (Func<Tensor, Tensor> Op, long[] Shape)> Ops = new()
    {
        ["sum"] = (x => x.Sum(), []),
        ["sum dim 1"] = (x => x.Sum(1), [3]),
        ["sum dim 0 keepdim"] = (x => x.Sum(0, keepDim: true), [1, 4]),
        ["sum dims [0, 1] keepdim"] = (x => x.Sum([0L, 1L], keepDim: true), [1, 1]),
        ["sum dim -1"] = (x => x.Sum(-1), [3]),
        ["mean"] = (x => x.Mean(), []),
        ["mean dim 1"] = (x => x.Mean(1), [3]),
        ["mean dim 0 keepdim"] = (x => x.Mean(0, keepDim: true), [1, 4]),
        ["mean dims [1, 0]"] = (x => x.Mean([1L, 0L]), []),
        ["max of all"] = (x => x.Max(), []),
        ["min of all"] = (x => x.Min(), []),
        ["amax dim 1"] = (x => x.Amax(1), [3]),
        ["amax dim 0 keepdim"] = (x => x.Amax(0, keepDim: true), [1, 4]),
        ["amin dim 1"] = (x => x.Amin(1), [3]),
        ["max(dim 1) values"] = (x => x.Max(1).Values, [3]),
        ["max(dim 0, keepdim) values"] = (x => x.Max(0, keepDim: true).Values, [1, 4]),
        ["logsumexp dim 1"] = (x => x.LogSumExp(1), [3]),
        ["logsumexp dim 0 keepdim"] = (x => x.LogSumExp(0, keepDim: true), [1, 4]),
        ["softmax dim 1"] = (x => x.Softmax(1), [3, 4]),
        ["softmax dim 0"] = (x => Functional.Softmax(x, 0), [3, 4]),
        ["log_softmax dim -1"] = (x => x.LogSoftmax(-1), [3, 4]),
        ["log_softmax dim 0"] = (x => Functional.LogSoftmax(x, 0), [3, 4]),
        ["cumsum dim 1"] = (x => x.CumSum(1), [3, 4]),
        ["cumsum dim 0"] = (x => x.CumSum(0), [3, 4]),
        ["topk 2 values"] = (x => x.TopK(2).Values, [3, 2]),
        ["topk 2 smallest dim 0 values"] = (x => x.TopK(2, dim: 0, largest: false).Values, [2, 4]),
        ["sort values"] = (x => x.Sort().Values, [3, 4]),
        ["sort descending dim 0 values"] = (x => x.Sort(dim: 0, descending: true).Values, [3, 4]),
    };

    public static TheoryData<string> Cases => new(Ops.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientMatchesFiniteDifferences(string name)
    {
        var (op, shape) = Ops[name];
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(Seed);
        var x = Randn(generator, 3, 4);

        Assert.Equal(shape, op(x).Shape);
        GradCheck.Assert(op, x);
    }

    // Hand-computed values for x = [[1, 2, 3], [4, 0, -1]].
    [Fact]
    public void ForwardValuesMatchHandComputation()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 2, 3, 4, 0, -1], 2, 3);

        Assert.Equal(9.0, x.Sum().Item());
        Assert.Equal([6.0, 3.0], x.Sum(1).ToArray<double>());
        Assert.Equal([5.0, 2.0, 2.0], x.Sum(0).ToArray<double>());
        Assert.Equal(1.5, x.Mean().Item());
        Assert.Equal([2.0, 1.0], x.Mean(1).ToArray<double>());
        Assert.Equal(4.0, x.Max().Item());
        Assert.Equal(-1.0, x.Min().Item());
        Assert.Equal([3.0, 4.0], x.Amax(1).ToArray<double>());
        Assert.Equal([1.0, -1.0], x.Amin(1).ToArray<double>());
        Assert.Equal([4.0, 2.0, 3.0], x.Max(0).Values.ToArray<double>());
        Assert.Equal([1L, 0L, 0L], x.Max(0).Indices.ToArray<long>());
        Assert.Equal([1.0, 3.0, 6.0, 4.0, 4.0, 3.0], x.CumSum(1).ToArray<double>());

        var lse = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        AssertClose([lse], x.Select(0, 0).LogSumExp(0).ToArray<double>());
        AssertClose([Math.Exp(1 - lse), Math.Exp(2 - lse), Math.Exp(3 - lse)], x.Select(0, 0).Softmax(0).ToArray<double>());
        AssertClose([1 - lse, 2 - lse, 3 - lse], x.Select(0, 0).LogSoftmax(0).ToArray<double>());
    }
}
