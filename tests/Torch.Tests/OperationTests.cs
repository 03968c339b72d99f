using static Orleans.MoE.Torch.Tests.TestInputs;

namespace Orleans.MoE.Torch.Tests;

// Forward values of the operations without gradients (indices, counts, masks), against values
// worked out by hand.
public class OperationTests
{
    [Fact]
    public void ArgMaxOfFlattenedTensorAndPerDimension()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, 9, 3, 7, 2, 9], 2, 3);

        var flat = x.ArgMax();
        Assert.Equal(ScalarType.Int64, flat.Dtype);
        Assert.Empty(flat.Shape);
        Assert.Equal(1, flat.ItemInt64()); // ties: the first maximum
        Assert.Equal([1L, 2L], x.ArgMax(1).ToArray<long>());
        Assert.Equal([1L, 0L, 1L], x.ArgMax(0).ToArray<long>());
        Assert.Equal([2L, 1L], x.ArgMax(1, keepDim: true).Shape);
    }

    [Fact]
    public void TopKIndices()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([0.5, 3, -1, 2, 8, 4], 2, 3);

        var (values, indices) = x.TopK(2);
        Assert.Equal([3.0, 0.5, 8, 4], values.ToArray<double>());
        Assert.Equal([1L, 0, 1, 2], indices.ToArray<long>());

        var (smallest, at) = x.TopK(1, dim: 0, largest: false);
        Assert.Equal([0.5, 3, -1], smallest.ToArray<double>());
        Assert.Equal([0L, 0, 0], at.ToArray<long>());
    }

    [Fact]
    public void SortIndices()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([0.5, 3, -1, 2], 4);

        var (ascending, from) = x.Sort();
        Assert.Equal([-1.0, 0.5, 2, 3], ascending.ToArray<double>());
        Assert.Equal([2L, 0, 3, 1], from.ToArray<long>());
        Assert.Equal([1L, 3, 0, 2], x.Sort(descending: true).Indices.ToArray<long>());
        Assert.Equal([1L, 1, 0, 0], F64([3, 1, 2, 0], 2, 2).Sort(dim: 0).Indices.ToArray<long>());
    }

    [Fact]
    public void StableArgSortKeepsEqualElementsInInputOrder()
    {
        using var scope = DisposeScope.Begin();
        // 40 elements with only three distinct values: an unstable sort would be free to reorder ties.
        var values = Enumerable.Range(0, 40).Select(i => (long)(i * 7 % 3)).ToArray();
        var x = I64(values);

        var expected = Enumerable.Range(0, 40).OrderBy(i => values[i]).Select(i => (long)i).ToArray(); // LINQ OrderBy is stable
        Assert.Equal(expected, x.ArgSort(stable: true).ToArray<long>());

        var descending = Enumerable.Range(0, 40).OrderByDescending(i => values[i]).Select(i => (long)i).ToArray();
        Assert.Equal(descending, x.ArgSort(descending: true, stable: true).ToArray<long>());
        Assert.Equal([1L, 3, 2, 0, 4], I64([3, 1, 2, 1, 3]).ArgSort(stable: true).ToArray<long>());
    }

    [Fact]
    public void BinCountWithMinLengthAndWeights()
    {
        using var scope = DisposeScope.Begin();
        var x = I64([1, 1, 3, 0, 1]);

        var counts = x.BinCount();
        Assert.Equal(ScalarType.Int64, counts.Dtype);
        Assert.Equal([1L, 3, 0, 1], counts.ToArray<long>());
        Assert.Equal([1L, 3, 0, 1, 0, 0], x.BinCount(minLength: 6).ToArray<long>());
        Assert.Equal([1L, 3, 0, 1], x.BinCount(minLength: 2).ToArray<long>()); // minLength below the max changes nothing

        var weighted = x.BinCount(minLength: 5, weights: F64([0.5, 0.25, 2, 4, 1]));
        Assert.Equal(ScalarType.Float64, weighted.Dtype);
        Assert.Equal([4.0, 1.75, 0, 2, 0], weighted.ToArray<double>());
    }

    [Fact]
    public void NonzeroListsCoordinatesRowMajor()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([0, 2, 0, -1, 0, 3], 2, 3);

        var at = x.Nonzero();
        Assert.Equal([3L, 2L], at.Shape);
        Assert.Equal(ScalarType.Int64, at.Dtype);
        Assert.Equal([0L, 1, 1, 0, 1, 2], at.ToArray<long>());
        Assert.Equal([0L, 1], Tensor.Zeros([4]).Nonzero().Shape);
    }

    [Fact]
    public void OneHot()
    {
        using var scope = DisposeScope.Begin();
        var hot = I64([2, 0, 3], 3).OneHot(4);

        Assert.Equal([3L, 4L], hot.Shape);
        Assert.Equal(ScalarType.Int64, hot.Dtype);
        Assert.Equal([0L, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1], hot.ToArray<long>());
        Assert.Equal([2L, 1L, 5L], I64([1, 4], 2, 1).OneHot(5).Shape);
    }

    [Fact]
    public void ComparisonsBroadcastAndGiveBool()
    {
        using var scope = DisposeScope.Begin();
        var a = F64([1, 2, 3, 4], 2, 2);
        var b = F64([2, 2], 2); // broadcast over rows

        Assert.Equal(ScalarType.Bool, a.Eq(b).Dtype);
        Assert.Equal([false, true, false, false], a.Eq(b).ToArray<bool>());
        Assert.Equal([true, false, true, true], a.Ne(b).ToArray<bool>());
        Assert.Equal([true, false, false, false], a.Lt(b).ToArray<bool>());
        Assert.Equal([true, true, false, false], a.Le(b).ToArray<bool>());
        Assert.Equal([false, false, true, true], a.Gt(b).ToArray<bool>());
        Assert.Equal([false, true, true, true], a.Ge(b).ToArray<bool>());
        Assert.Equal([false, false, true, false], a.Eq(3.0).ToArray<bool>());
        Assert.Equal([true, true, false, true], a.Ne(3.0).ToArray<bool>());
        Assert.Equal([true, true, false, false], a.Lt(2.5).ToArray<bool>());
        Assert.Equal([true, true, true, false], a.Le(3.0).ToArray<bool>());
        Assert.Equal([false, false, false, true], a.Gt(3.0).ToArray<bool>());
        Assert.Equal([false, false, true, true], a.Ge(3.0).ToArray<bool>());
        Assert.Equal([true, false, true], I64([5, 6, 7]).Ne(6.0).ToArray<bool>());
    }

    [Fact]
    public void LogicalOperations()
    {
        using var scope = DisposeScope.Begin();
        var p = Bool([true, true, false, false], 4);
        var q = Bool([true, false, true, false], 4);

        Assert.Equal([true, false, false, false], p.LogicalAnd(q).ToArray<bool>());
        Assert.Equal([true, true, true, false], p.LogicalOr(q).ToArray<bool>());
        Assert.Equal([false, false, true, true], p.LogicalNot().ToArray<bool>());
        // Non-boolean operands count as true where non-zero.
        Assert.Equal([false, true, true], F64([0, 2, -1]).LogicalOr(F64([0, 0, 0])).ToArray<bool>());
    }

    [Fact]
    public void IsFinite()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([1, double.PositiveInfinity, double.NaN, double.NegativeInfinity, -0.0, double.MaxValue]);

        Assert.Equal([true, false, false, false, true, true], x.IsFinite().ToArray<bool>());
        Assert.Equal([true, true], I64([1, long.MaxValue]).IsFinite().ToArray<bool>());
    }

    [Fact]
    public void RepeatInterleave()
    {
        using var scope = DisposeScope.Begin();
        var x = I64([1, 2, 3, 4], 2, 2);

        Assert.Equal([1L, 2, 1, 2, 3, 4, 3, 4], x.RepeatInterleave(2, 0).ToArray<long>());
        Assert.Equal([1L, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4], x.RepeatInterleave(3, 1).ToArray<long>());
        Assert.Equal([2L, 6L], x.RepeatInterleave(3, 1).Shape);
    }

    [Fact]
    public void SignAndFloor()
    {
        using var scope = DisposeScope.Begin();
        var x = F64([-2.5, 0, 0.5, 3]);

        Assert.Equal([-1.0, 0, 1, 1], x.Sign().ToArray<double>());
        Assert.Equal([-3.0, 0, 0, 3], x.Floor().ToArray<double>());
    }
}
