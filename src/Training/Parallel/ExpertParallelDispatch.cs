using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Training.Parallel;

/// <summary>
/// Expert parallelism for one MoE or LatentMoE layer, the paper's baseline (§2.3, the EP code step by
/// step): rank p owns experts [p N_e / P, (p + 1) N_e / P). After routing, each rank
/// <list type="number">
/// <item>sorts its k copies of every token by expert, which groups them by destination rank;</item>
/// <item>exchanges its per-expert counts (the metadata all-to-all: the token splits depend on the routing);</item>
/// <item>sends the copies with those data-dependent splits ("dispatch");</item>
/// <item>regroups what arrived from [source rank][expert] to [expert][source rank] order, runs its
/// experts, and restores the order;</item>
/// <item>sends the results back ("combine") and adds them to their tokens, weighted by the gates.</item>
/// </list>
/// The traffic grows with k and follows the routing: a popular expert's rank receives more.
/// </summary>
public sealed class ExpertParallelDispatch : IExpertDispatch
{
    private readonly ProcessGroup _group;
    private readonly TrafficCounter _metadata;
    private readonly TrafficCounter _dispatch;
    private readonly TrafficCounter _combine;
    private readonly string _label;

    public ExpertParallelDispatch(ProcessGroup group, int layer, CommunicationLedger ledger)
    {
        _group = group;
        _metadata = ledger.For(layer, "metadata");
        _dispatch = ledger.For(layer, "dispatch");
        _combine = ledger.For(layer, "combine");
        _label = $"layer {layer} expert dispatch";
    }

    public Tensor Apply(ExpertBank localExperts, Tensor rows, RoutedTokens routed)
    {
        using var scope = DisposeScope.Begin();
        var p = _group.WorldSize;
        var counts = routed.Counts;                                       // (N_e) this rank's assignments per global expert
        var perRank = counts.Length / p;                                  // experts per rank
        if (localExperts.Count != perRank || localExperts.Slice.Start != (long)_group.Rank * perRank)
            throw new InvalidOperationException($"rank {_group.Rank} must hold experts [{_group.Rank * perRank}, {(_group.Rank + 1) * perRank}) of this layer");

        // 1. copies sorted by global expert id: destination ranks are contiguous blocks.
        var k = routed.Gates.Size(-1);
        var order = routed.ExpertIds.ArgSort(stable: true);               // (R·k)
        var sourceRow = order.FloorDivide(k);                             // (R·k) token row of each copy
        var outgoing = rows.IndexSelect(0, sourceRow);                    // (R·k, w)
        var sendSplits = new long[p];
        for (var e = 0; e < counts.Length; e++) sendSplits[e / perRank] += counts[e];

        // 2. metadata: received[s · perRank + e] = copies rank s sends to my local expert e.
        var received = _group.AllToAll(Tensor.FromArray(counts, counts.Length).To(_group.Device), counter: _metadata, label: _label)
            .ToArray<long>();                                             // (P · perRank) on the host
        var receiveSplits = new long[p];
        var localCounts = new long[perRank];
        for (var s = 0; s < p; s++)
            for (var e = 0; e < perRank; e++)
            {
                receiveSplits[s] += received[s * perRank + e];
                localCounts[e] += received[s * perRank + e];
            }

        // 3. dispatch: arrives in [source rank][expert] order.
        var arrived = _group.AllToAll(outgoing, sendSplits, receiveSplits, _dispatch, _label);   // (Σ received, w)

        // 4. regroup by expert, compute, restore [source rank][expert] order.
        var (byExpert, restore) = ChunkOrder(received, p, perRank, arrived.Device);
        var grouped = arrived.IndexSelect(0, byExpert);                   // (Σ received, w) expert-major
        var computed = localExperts.ApplyGrouped(grouped, localCounts)    // (Σ received, w)
            .IndexSelect(0, restore);                                     // back to source-major
        // A rank that received no copies computes nothing, which would cut both exchanges out of its
        // graph: its backward would skip the reverse all-to-alls the other ranks wait in.
        if (arrived.RequiresGrad && !computed.RequiresGrad) computed = arrived * 0.0;   // (0, w)

        // 5. combine: results return in the order the copies left.
        var returned = _group.AllToAll(computed, receiveSplits, sendSplits, _combine, _label);  // (R·k, w)
        var gates = routed.Gates.Flatten().IndexSelect(0, order);         // (R·k)
        var weighted = returned * gates.Unsqueeze(1);                     // (R·k, w)
        if (weighted.Dtype != rows.Dtype) weighted = weighted.To(rows.Dtype);   // bfloat16 products under autocast
        var combined = rows.ZerosLike().IndexAdd(0, sourceRow, weighted); // (R, w)
        return scope.MoveToOuter(combined);
    }

    /// <summary>
    /// The permutation from [source][expert] blocks (block sizes received[s · perRank + e]) to
    /// [expert][source] blocks, and its inverse. Both Int64 (Σ received).
    /// </summary>
    private static (Tensor ByExpert, Tensor Restore) ChunkOrder(long[] received, int p, int perRank, Device device)
    {
        var start = new long[received.Length];                            // where block (s, e) starts in source-major order
        for (var i = 1; i < received.Length; i++) start[i] = start[i - 1] + received[i - 1];
        var total = received.Sum();
        var byExpert = new long[total];
        var restore = new long[total];
        long position = 0;
        for (var e = 0; e < perRank; e++)
            for (var s = 0; s < p; s++)
            {
                var block = s * perRank + e;
                for (long i = 0; i < received[block]; i++)
                {
                    byExpert[position] = start[block] + i;
                    restore[start[block] + i] = position;
                    position++;
                }
            }
        return (Tensor.FromArray(byExpert, total).To(device), Tensor.FromArray(restore, total).To(device));   // index tensors live with the rows
    }
}
