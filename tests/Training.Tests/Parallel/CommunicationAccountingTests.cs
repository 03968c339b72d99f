using Orleans.MoE.ParallelWorker;
using Xunit.Abstractions;

namespace Orleans.MoE.Training.Tests.Parallel;

/// <summary>
/// The bytes the ledger counted in the multi-process runs, against the volume formulas of the paper's
/// §4.3 (float32, b = 4 bytes; each counter holds the forward all-to-all and its backward):
/// <list type="bullet">
/// <item>head parallel: every rank sends and receives n·d·b per collective and direction, whatever k,
/// the routing or the step, and exchanges no metadata;</item>
/// <item>expert parallel: rank r sends its n·k copies and receives the R_r copies routed to its experts,
/// so its dispatch (and combine) counter holds (n·k + R_r)·d·b over forward and backward, with R_r the sum
/// of the global expert counts of its experts; the mean over ranks is 2·n·k·d·b; plus N_e·8 bytes of
/// counts (forward only).</item>
/// </list>
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class CommunicationAccountingTests(ITestOutputHelper output)
{
    private const int FloatBytes = 4;
    private const int Experts = 16;

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void HeadParallelMovesNDBPerCollectiveForEveryKRankAndStep(int worldSize)
    {
        var run = ParallelRuns.Head(worldSize);
        foreach (var k in ParallelRuns.TopKs)
            foreach (var rank in run.ByK[k].Ranks)
                foreach (var step in rank.Steps)
                {
                    var perCollective = (long)rank.TokensPerRank * rank.DModel * FloatBytes;
                    var layers = step.Ledger.Where(r => r.Layer is not null).ToArray();
                    Assert.DoesNotContain(layers, r => r.Collective == "metadata");
                    Assert.Equal(4, layers.Length);   // dispatch and combine of two layers
                    foreach (var row in layers)
                    {
                        var where = $"k={k} rank {rank.Rank} step {step.Step} layer {row.Layer} {row.Collective}";
                        Assert.True(row is { Calls: 2, BackwardCalls: 1 }, $"{where}: {row.Calls} calls, {row.BackwardCalls} backward");
                        Assert.Equal(2 * perCollective, row.BytesSent);
                        Assert.Equal(2 * perCollective, row.BytesReceived);
                        Assert.Equal(2 * perCollective * (worldSize - 1) / worldSize, row.RemoteBytesSent);
                        Assert.Equal(2 * perCollective * (worldSize - 1) / worldSize, row.RemoteBytesReceived);
                    }
                }
        // The same rows, byte for byte, for every k, rank and step.
        var distinct = ParallelRuns.TopKs.SelectMany(k => run.ByK[k].Ranks)
            .SelectMany(r => r.Steps.SelectMany(s => s.Ledger.Where(l => l.Layer is not null)))
            .Select(l => l with { Layer = 0 }).Distinct().Count();
        Assert.Equal(2, distinct);   // dispatch and combine
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void ExpertParallelMovesTheRoutedCopiesPlusTheCounts(int worldSize)
    {
        var run = ParallelRuns.Expert(worldSize);
        var perRank = Experts / worldSize;
        foreach (var k in ParallelRuns.TopKs)
        {
            var received = new HashSet<long>();
            foreach (var rank in run.ByK[k].Ranks)
                foreach (var step in rank.Steps)
                    foreach (var layer in step.Routing)
                    {
                        var copiesHere = layer.Counts.Skip(rank.Rank * perRank).Take(perRank).Sum();   // R_r
                        var expected = ((long)rank.TokensPerRank * k + copiesHere) * rank.DModel * FloatBytes;
                        var rows = step.Ledger.Where(r => r.Layer == layer.Layer).ToDictionary(r => r.Collective);
                        foreach (var collective in new[] { "dispatch", "combine" })
                        {
                            var row = rows[collective];
                            var where = $"k={k} rank {rank.Rank} step {step.Step} layer {layer.Layer} {collective}";
                            Assert.True(row is { Calls: 2, BackwardCalls: 1 }, $"{where}: {row.Calls} calls");
                            Assert.Equal(expected, row.BytesSent);
                            Assert.Equal(expected, row.BytesReceived);
                        }
                        Assert.Equal(new LedgerRow(layer.Layer, "metadata", 1, 0, Experts * 8, Experts * 8,
                            Experts * 8 * (worldSize - 1) / worldSize, Experts * 8 * (worldSize - 1) / worldSize), rows["metadata"]);
                        received.Add(copiesHere);
                    }
            Assert.True(received.Count > 1, $"k={k}: every rank received the same number of copies at every step; expert parallel traffic should follow the routing");
        }
    }

    [Fact]
    public void ExpertParallelBytesGrowLinearlyWithKAndHeadParallelBytesDoNot()
    {
        const int worldSize = 4;
        var head = ParallelRuns.Head(worldSize);
        var expert = ParallelRuns.Expert(worldSize);
        output.WriteLine($"bytes per rank, layer and step at P = {worldSize} (dispatch + combine, forward + backward; metadata separately)");
        output.WriteLine(" k   HP      EP mean   EP max   EP metadata   HP/EP   HP/(EP+metadata)");
        var epPerK = new Dictionary<int, double>();
        foreach (var k in ParallelRuns.TopKs)
        {
            var hp = Mean(head.ByK[k], "dispatch", "combine");
            var ep = Mean(expert.ByK[k], "dispatch", "combine");
            var epMax = Rows(expert.ByK[k], "dispatch", "combine").GroupBy(r => r.Key).Max(g => g.Sum(r => r.Row.BytesSent));
            var metadata = Mean(expert.ByK[k], "metadata");
            epPerK[k] = ep;
            var n = head.ByK[k].Ranks[0].TokensPerRank;
            var d = head.ByK[k].Ranks[0].DModel;
            Assert.Equal(4.0 * n * d * FloatBytes, hp);                // 4 n d b: two collectives, forward and backward
            Assert.Equal(4.0 * n * k * d * FloatBytes, ep);            // 4 n k d b on average over the ranks
            output.WriteLine($"{k,2} {hp,7} {ep,9} {epMax,8} {metadata,9} {hp / ep,9:P1} {hp / (ep + metadata),12:P1}");
            if (k == 4)
            {
                Assert.Equal(0.25, hp / ep);
                Assert.InRange(hp / (ep + metadata), 0.24, 0.25);
            }
        }
        Assert.Equal(epPerK[2] * 2, epPerK[4]);
        Assert.Equal(epPerK[2] * 4, epPerK[8]);
    }

    /// <summary>Bytes sent per (rank, step, layer) over the given collectives, averaged.</summary>
    private static double Mean(TrainingRunResult.OneK run, params string[] collectives) =>
        Rows(run, collectives).GroupBy(r => r.Key).Average(g => (double)g.Sum(r => r.Row.BytesSent));

    private static IEnumerable<((int Rank, int Step, int? Layer) Key, LedgerRow Row)> Rows(TrainingRunResult.OneK run, params string[] collectives) =>
        run.Ranks.SelectMany(rank => rank.Steps.SelectMany(step => step.Ledger
            .Where(r => r.Layer is not null && collectives.Contains(r.Collective))
            .Select(r => ((rank.Rank, step.Step, r.Layer), r))));
}
