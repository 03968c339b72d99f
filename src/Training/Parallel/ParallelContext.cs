using Orleans.MoE.Model;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Torch.NN;
using Orleans.MoE.Torch.Optim;

namespace Orleans.MoE.Training.Parallel;

/// <summary>
/// This rank's place in a multi-process run, and the steps that keep the ranks one model:
/// <list type="bullet">
/// <item>the model holds <see cref="Partition"/> of its heads (head parallel) or experts (expert parallel);
/// <see cref="Attach"/> installs the exchanges that reach the other ranks' parts;</item>
/// <item>shared weights (everything not partial) start equal (<see cref="BroadcastSharedWeights"/>) and
/// stay equal because their gradients are summed (<see cref="SynchronizeGradients"/>);</item>
/// <item>expert loads are summed across ranks where every rank routes its own tokens over the same
/// experts (data and expert parallel), never under head parallel, where each rank already sees
/// every token of its heads (<see cref="SynchronizeRoutingLoad"/>).</item>
/// </list>
/// <para>
/// Gradient scale: each rank backpropagates its own mean loss divided by P. The gradient of a shared
/// weight summed over ranks is then the gradient of the global mean loss, and a rank-local weight,
/// whose gradient already gathers every rank's tokens through the exchange's backward, gets exactly
/// that too: the same scale as a single process (the paper's code leaves rank-local gradients P times
/// larger).
/// </para>
/// </summary>
public sealed class ParallelContext : IDisposable
{
    public ParallelContext(ProcessGroup group, ParallelMode mode)
    {
        Group = group;
        Mode = mode;
        Partition = mode == ParallelMode.Data ? ExpertPartition.Whole : new ExpertPartition(group.Rank, group.WorldSize);
        Ledger.For(null, "gradients");   // every rank lists the same counters from the start
    }

    public ProcessGroup Group { get; }

    public ParallelMode Mode { get; }

    public int Rank => Group.Rank;

    public int WorldSize => Group.WorldSize;

    /// <summary>The part of the routed layers this rank's model must hold.</summary>
    public ExpertPartition Partition { get; }

    /// <summary>The bytes every collective moved on this rank.</summary>
    public CommunicationLedger Ledger { get; } = new();

    /// <summary>
    /// Checks that the model fits the mode (head parallel needs Multi-Head LatentMoE layers, expert
    /// parallel MoE or LatentMoE ones, both built with <see cref="Partition"/>) and installs the
    /// exchange of every routed layer.
    /// </summary>
    public void Attach(Transformer model)
    {
        if (model.Partition != Partition)
            throw new ArgumentException($"the model holds part {model.Partition.Index} of {model.Partition.Count}, but rank {Rank} of {WorldSize} in {Mode} parallel needs part {Partition.Index} of {Partition.Count}", nameof(model));
        foreach (var (layer, ffn) in model.RoutedLayers)
        {
            switch (Mode, ffn)
            {
                case (ParallelMode.Data, _):
                    break;
                case (ParallelMode.Head, MultiHeadLatentMoeFeedForward heads):
                    heads.HeadExchange = new HeadParallelExchange(Group, layer, Ledger);
                    break;
                case (ParallelMode.Expert, MoeFeedForward moe):
                    moe.ExpertDispatch = new ExpertParallelDispatch(Group, layer, Ledger);
                    break;
                case (ParallelMode.Expert, LatentMoeFeedForward latent):
                    latent.ExpertDispatch = new ExpertParallelDispatch(Group, layer, Ledger);
                    break;
                default:
                    throw new ArgumentException(Mode == ParallelMode.Head
                        ? $"head parallelism needs Multi-Head LatentMoE layers, but layer {layer} is a {ffn.GetType().Name}; use expert or data parallelism"
                        : $"expert parallelism needs MoE or LatentMoE layers, but layer {layer} is a {ffn.GetType().Name}; use head parallelism for Multi-Head LatentMoE",
                        nameof(model));
            }
        }
    }

    /// <summary>Every shared weight and buffer becomes rank 0's (rank-local parts are left as they are).</summary>
    public void BroadcastSharedWeights(Transformer model)
    {
        using var noGrad = GradMode.NoGrad();
        var partial = model.PartialTensors;
        foreach (var (name, tensor) in model.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!partial.ContainsKey(name)) Group.Broadcast(tensor, root: 0, label: name);
        }
    }

    /// <summary>
    /// Sums the gradients of the shared parameters over the ranks, in one all-reduce. A parameter that
    /// got no gradient on this rank (an expert no token of this rank chose, under data parallelism)
    /// takes part with zeros. A rank-local part that no token reached gets a zero gradient, as its
    /// slice of the whole expert stack would in a single process, so AdamW updates it alike.
    /// </summary>
    public void SynchronizeGradients(Transformer model)
    {
        var partial = model.PartialTensors;
        foreach (var (name, p) in model.NamedParameters())
        {
            if (partial.ContainsKey(name) && p.Grad is null) p.Grad = p.ZerosLike().DetachFromScope();
        }
        if (WorldSize == 1) return;
        var shared = SharedParameters(model);
        if (shared.Count == 0) return;
        using var scope = DisposeScope.Begin();
        using var noGrad = GradMode.NoGrad();
        var flat = Tensor.Cat(shared.Select(p => (p.Grad ?? p.ZerosLike()).Flatten()).ToArray(), 0);   // (Σ numel)
        Group.AllReduce(flat, ReduceOp.Sum, Ledger.For(null, "gradients"), "gradients");
        long offset = 0;
        foreach (var p in shared)
        {
            var numel = p.NumElements;
            var summed = flat.Narrow(0, offset, numel).View(p.Shape);
            if (p.Grad is { } grad) grad.Copy_(summed);
            else p.Grad = summed.Clone();
            offset += numel;
        }
    }

    /// <summary>
    /// Clips every gradient of the whole model (all ranks' parts together) to <paramref name="maxNorm"/>
    /// in global 2-norm, as a single process would (torch's clip_grad_norm_); returns the norm before.
    /// Call after <see cref="SynchronizeGradients"/>: shared gradients are then equal on every rank and
    /// count once, rank-local ones are summed over the ranks.
    /// </summary>
    public double ClipGradients(Transformer model, double maxNorm)
    {
        using var scope = DisposeScope.Begin();
        using var noGrad = GradMode.NoGrad();
        var partial = model.PartialTensors;
        var parameters = model.NamedParameters().ToList();
        // An infinite threshold only measures (torch's clip_grad_norm_ scales only below a coefficient of 1).
        double NormOf(bool local)
        {
            var selected = parameters.Where(np => partial.ContainsKey(np.Name) == local).Select(np => np.Parameter).ToList();
            return selected.Count == 0 ? 0 : GradientClipping.ClipGradNorm(selected, double.PositiveInfinity);
        }
        var sharedNorm = NormOf(local: false);
        var localNorm = NormOf(local: true);
        var localSquares = Tensor.FromArray([localNorm * localNorm], 1).To(Group.Device);
        if (WorldSize > 1) Group.AllReduce(localSquares, ReduceOp.Sum, label: "gradient norm");
        var norm = Math.Sqrt(sharedNorm * sharedNorm + localSquares.Item());
        var coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
        {
            foreach (var (_, p) in parameters) p.Grad?.Mul_(coefficient);
        }
        return norm;
    }

    /// <summary>Data and expert parallel: every rank's expert loads become the sum over the ranks. Head parallel: nothing to do.</summary>
    public void SynchronizeRoutingLoad(Transformer model)
    {
        if (Mode == ParallelMode.Head || WorldSize == 1) return;
        var layers = model.RoutedLayers.Select(r => r.Ffn.Statistics).ToArray();
        if (layers.Length == 0) return;
        var values = layers.SelectMany(s => s.Counts.ToArray().Append(s.Tokens)).ToArray();
        using var scope = DisposeScope.Begin();
        var summed = Tensor.FromArray(values, values.Length).To(Group.Device);
        Group.AllReduce(summed, ReduceOp.Sum, label: "expert load");
        var result = summed.ToArray<long>();
        var offset = 0;
        foreach (var s in layers)
        {
            result.AsSpan(offset, s.Counts.Length).CopyTo(s.Counts);
            offset += s.Counts.Length;
            s.Tokens = result[offset++];
        }
    }

    /// <summary>Whether <paramref name="flag"/> is set on any rank (so that all ranks stop at the same step).</summary>
    public bool AnyRank(bool flag) => Sum([flag ? 1 : 0])[0] > 0;

    /// <summary>
    /// Head parallel: the routing metrics of every rank's heads, in head order (each rank measured its
    /// own heads over every token). Router entropy, tracked per rank, is kept for this rank's heads only.
    /// Other modes: <paramref name="local"/> itself, already global after <see cref="SynchronizeRoutingLoad"/>.
    /// </summary>
    public IReadOnlyList<RoutingMetrics> GatherHeadMetrics(IReadOnlyList<RoutingMetrics> local)
    {
        if (Mode != ParallelMode.Head || WorldSize == 1 || local.Count == 0) return local;
        var values = local.SelectMany(m => m.TokensPerExpert.Append(m.Tokens)).ToArray();
        using var scope = DisposeScope.Begin();
        using var gathered = Group.AllGather(Tensor.FromArray(values, values.Length).To(Group.Device), label: "routing metrics");   // (P, Σ)
        var all = gathered.ToArray<long>();
        // Every rank holds the same layers with H heads each, in (layer, head) order, with N_e + 1 values per head.
        var headsPerRank = local.Count(m => m.Layer == local[0].Layer);
        var width = local[0].TokensPerExpert.Length + 1;
        var result = new List<RoutingMetrics>(local.Count * WorldSize);
        for (var l = 0; l < local.Count / headsPerRank; l++)
            for (var r = 0; r < WorldSize; r++)
                for (var h = 0; h < headsPerRank; h++)
                {
                    var m = local[l * headsPerRank + h];
                    var o = r * values.Length + (l * headsPerRank + h) * width;
                    result.Add(r == Rank ? m : RoutingMetrics.FromCounts(m.Layer, r * headsPerRank + h, all.AsSpan(o, width - 1).ToArray(), all[o + width - 1]));
                }
        return result;
    }

    /// <summary>Every rank's ledger since the last call (index = rank); the counters start again from zero.</summary>
    public IReadOnlyList<IReadOnlyList<CommunicationRecord>> GatherCommunication()
    {
        var mine = Ledger.ReadAndReset();
        if (WorldSize == 1) return [mine];
        var values = mine.SelectMany(r => new[] { r.Traffic.Calls, r.Traffic.BytesSent, r.Traffic.BytesReceived,
            r.Traffic.RemoteBytesSent, r.Traffic.RemoteBytesReceived, r.Traffic.BackwardCalls }).ToArray();
        using var scope = DisposeScope.Begin();
        using var gathered = Group.AllGather(Tensor.FromArray(values, values.Length).To(Group.Device), label: "communication metrics");   // (P, 6·records)
        var all = gathered.ToArray<long>();
        return Enumerable.Range(0, WorldSize).Select(r => (IReadOnlyList<CommunicationRecord>)mine.Select((record, i) =>
        {
            var o = r * values.Length + i * 6;
            return record with { Traffic = new TrafficTotals(all[o], all[o + 1], all[o + 2], all[o + 3], all[o + 4], all[o + 5]) };
        }).ToArray()).ToArray();
    }

    /// <summary>The mean of <paramref name="value"/> over the ranks.</summary>
    public double Average(double value) => Sum([value])[0] / WorldSize;

    /// <summary>Element-wise sums over the ranks.</summary>
    public double[] Sum(double[] values)
    {
        if (WorldSize == 1) return values;
        using var scope = DisposeScope.Begin();
        var t = Tensor.FromArray(values, values.Length).To(Group.Device);
        Group.AllReduce(t, ReduceOp.Sum, label: "metrics");
        return t.ToArray<double>();
    }

    /// <summary>
    /// The whole model's version of <paramref name="state"/> (a state dict of this rank's model, or
    /// anything keyed alike): partial tensors are gathered from every rank and joined along dimension 0,
    /// shared ones are taken as they are. Every rank must call it.
    /// </summary>
    public Dictionary<string, Tensor> GatherWhole(IReadOnlyDictionary<string, Tensor> state, IReadOnlyDictionary<string, RowSlice> partial)
    {
        var whole = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in state.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!partial.ContainsKey(name) || WorldSize == 1)
            {
                whole[name] = tensor;
                continue;
            }
            using var gathered = Group.AllGather(tensor.Contiguous(), label: name);   // (P, rows, ...)
            var shape = tensor.Shape;
            shape[0] *= WorldSize;
            whole[name] = gathered.Reshape(shape).DetachFromScope();
        }
        return whole;
    }

    private static List<Parameter> SharedParameters(Transformer model)
    {
        var partial = model.PartialTensors;
        return model.NamedParameters().Where(np => !partial.ContainsKey(np.Name)).Select(np => np.Parameter).ToList();
    }

    public void Dispose() => Ledger.Dispose();
}
