using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Torch.Tests.Distributed;

public class CollectiveTests
{
    [Theory]
    [InlineData(ReduceOp.Sum, 6.0)]       // 1 + 2 + 3
    [InlineData(ReduceOp.Average, 2.0)]
    [InlineData(ReduceOp.Max, 3.0)]
    [InlineData(ReduceOp.Min, 1.0)]
    public void AllReduceCombinesEveryRank(ReduceOp op, double expected)
    {
        var results = LocalRanks.Run(3, g =>
        {
            var t = Tensor.Full([4], g.Rank + 1.0);
            g.AllReduce(t, op);
            return t.ToArray<float>();
        });
        foreach (var r in results) Assert.All(r, v => Assert.Equal(expected, v));
    }

    [Fact]
    public void AllReduceCountsItsPayload()
    {
        var totals = LocalRanks.Run(2, g =>
        {
            using var counter = new TrafficCounter();
            g.AllReduce(Tensor.Ones([10]), ReduceOp.Sum, counter);
            return counter.Read();
        });
        Assert.All(totals, t => Assert.Equal(new TrafficTotals(1, 40, 40, 40, 40, 0), t));
    }

    [Fact]
    public void BroadcastCopiesTheRootsTensor()
    {
        var results = LocalRanks.Run(3, g =>
        {
            var t = Tensor.Full([2, 2], 10.0 * g.Rank);
            g.Broadcast(t, root: 1);
            return t.ToArray<float>();
        });
        foreach (var r in results) Assert.All(r, v => Assert.Equal(10f, v));
    }

    [Fact]
    public void AllGatherStacksTheRanksInOrder()
    {
        var results = LocalRanks.Run(3, g =>
        {
            using var gathered = g.AllGather(Tensor.Full([2], g.Rank));
            Assert.Equal([3L, 2L], gathered.Shape);
            return gathered.ToArray<float>();
        });
        foreach (var r in results) Assert.Equal([0f, 0f, 1f, 1f, 2f, 2f], r);
    }

    [Fact]
    public void EqualAllToAllSendsRowBlockRToRankR()
    {
        const int world = 3;
        var results = LocalRanks.Run(world, g =>
        {
            // (world · 2, 1): row block r holds 10·source + destination.
            var rows = Enumerable.Range(0, world * 2).Select(i => (float)(10 * g.Rank + i / 2)).ToArray();
            using var received = g.AllToAll(Tensor.FromArray(rows, world * 2, 1));
            return received.ToArray<float>();
        });
        for (var r = 0; r < world; r++)
        {
            var expected = Enumerable.Range(0, world * 2).Select(i => (float)(10 * (i / 2) + r)).ToArray();
            Assert.Equal(expected, results[r]);
        }
    }

    [Fact]
    public void UnequalAllToAllHonoursEverySplitIncludingEmptyOnes()
    {
        // send[s][d]: rows rank s sends to rank d. Rank 2 sends nothing at all; nobody sends to rank 1 from rank 0.
        long[][] send = [[2, 0, 1], [1, 3, 2], [0, 0, 0]];
        var results = LocalRanks.Run(3, g =>
        {
            var mine = send[g.Rank];
            var receive = Enumerable.Range(0, 3).Select(s => send[s][g.Rank]).ToArray();
            // each row: (source, destination, index within the block)
            var data = new List<float>();
            for (var d = 0; d < 3; d++)
                for (var i = 0; i < mine[d]; i++) data.AddRange([g.Rank, d, i]);
            using var input = Tensor.FromArray(data.ToArray(), mine.Sum(), 3);
            using var output = g.AllToAll(input, mine, receive);
            Assert.Equal([receive.Sum(), 3L], output.Shape);
            return output.ToArray<float>();
        });
        for (var d = 0; d < 3; d++)
        {
            var expected = new List<float>();
            for (var s = 0; s < 3; s++)
                for (var i = 0; i < send[s][d]; i++) expected.AddRange([s, d, i]);
            Assert.Equal(expected, results[d]);
        }
    }

    [Fact]
    public void AllToAllBackwardIsTheReverseExchange()
    {
        // Per rank r: y_r = a2a(x_r) with unequal splits; L = Σ_r Σ w_r ⊙ y_r. The gradient of the row of x_s
        // that landed at row j of y_d is w_d[j], so each rank must get back exactly its receivers' weights.
        long[][] send = [[1, 2], [3, 0]];
        var results = LocalRanks.Run(2, g =>
        {
            var mine = send[g.Rank];
            var receive = new[] { send[0][g.Rank], send[1][g.Rank] };
            var rows = mine.Sum();
            using var x = Tensor.FromArray(Enumerable.Range(0, (int)rows * 2).Select(i => (float)i).ToArray(), rows, 2).RequiresGrad_();
            using var counter = new TrafficCounter();
            var y = g.AllToAll(x, mine, receive, counter);                          // (Σ receive, 2)
            var w = Tensor.FromArray(Enumerable.Range(0, (int)receive.Sum() * 2).Select(i => 100f * g.Rank + i).ToArray(), receive.Sum(), 2);
            (y * w).Sum().Backward();
            return (x.Grad!.ToArray<float>(), counter.Read());
        });
        // rank 0's x: row 0 -> rank 0 row 0; rows 1..2 -> rank 1 rows 0..1.
        // rank 1's x: rows 0..2 -> rank 0 rows 1..3.
        Assert.Equal([0f, 1f, 100f, 101f, 102f, 103f], results[0].Item1);
        Assert.Equal([2f, 3f, 4f, 5f, 6f, 7f], results[1].Item1);
        // Rows of 2 floats = 8 bytes. Rank 0: forward sends 3 rows (2 remote) and receives 4 (3 remote);
        // backward the reverse. Rank 1: forward sends 3 (all remote) and receives 2 (all remote); backward the reverse.
        Assert.Equal(new TrafficTotals(2, 7 * 8, 7 * 8, 5 * 8, 5 * 8, 1), results[0].Item2);
        Assert.Equal(new TrafficTotals(2, 5 * 8, 5 * 8, 5 * 8, 5 * 8, 1), results[1].Item2);
    }

    [Fact]
    public void SplitsThatDoNotMatchTheInputAreRejectedWithoutBreakingTheGroup()
    {
        LocalRanks.Run(2, g =>
        {
            var error = Assert.ThrowsAny<Exception>(() => g.AllToAll(Tensor.Zeros([3, 1]), [1, 1], [1, 1]));
            Assert.Contains("sum to 2", error.Message);
            Assert.Throws<ArgumentException>(() => g.AllToAll(Tensor.Zeros([2, 1]), [1, 1, 0], [1, 1]));
            g.Barrier();   // still usable
        });
    }
}
