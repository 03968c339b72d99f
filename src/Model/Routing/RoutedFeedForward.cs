using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Model.Routing;

/// <summary>
/// What every routed FFN shares: top-k selection with the auxiliary-loss-free balancing bias, the
/// softmax gate over the selected logits, the expert-load counters of the current optimizer step, and
/// the optional Switch load-balancing loss and router z-loss.
/// <para>
/// A layer has G routing groups, each with its own router, bias and N_e experts: G = 1 for MoE and
/// LatentMoE, G = N_h for Multi-Head LatentMoE (one group per head).
/// </para>
/// </summary>
public abstract class RoutedFeedForward : FeedForward
{
    private readonly BalancingConfig _balancing;

    /// <param name="groups">the routing groups this layer holds</param>
    /// <param name="firstGroup">the index of the first of them in the whole layer (head parallelism holds a slice of the heads)</param>
    protected RoutedFeedForward(int groups, MoeConfig moe, BalancingConfig balancing, WeightInit init, int firstGroup = 0, bool labelGroups = false)
    {
        Groups = groups;
        FirstGroup = firstGroup;
        _labelGroups = labelGroups || groups > 1;
        NumExperts = moe.NumExperts;
        TopK = moe.TopK;
        Kernels = moe.Kernels;
        _balancing = balancing;
        // (G, N_e): the aux-free bias, used for expert selection only, never in the gate values. A buffer,
        // not a parameter: it is updated by the load rule, not by gradients, and is saved with the weights.
        BalancingBias = RegisterBuffer("balancing_bias", Tensor.Zeros([groups, moe.NumExperts], ScalarType.Float32, init.Device));
        Statistics = new RoutingStatistics(groups, moe.NumExperts, moe.TopK);
        using var scope = DisposeScope.Begin();
        var offsets = Tensor.Arange(0, (double)groups * moe.NumExperts, moe.NumExperts, ScalarType.Int64, init.Device).View(groups, 1, 1);
        _groupOffsets = RegisterBuffer("group_offsets", scope.MoveToOuter(offsets), persistent: false);
    }

    private readonly Tensor _groupOffsets;   // (G, 1, 1) Int64: g · N_e, turns a group's expert index into a global one
    private readonly bool _labelGroups;

    /// <summary>G held here: 1, or N_h for Multi-Head LatentMoE (N_h / P under head parallelism).</summary>
    public int Groups { get; }

    /// <summary>The whole layer's index of group 0 held here (0 unless head-parallel).</summary>
    public int FirstGroup { get; }

    /// <summary>
    /// The tensors of this layer held only in part, by name relative to the layer, with the rows of the
    /// whole layer's dimension 0 they hold. Empty when the layer is whole.
    /// </summary>
    public abstract IReadOnlyDictionary<string, RowSlice> PartialTensors { get; }

    /// <summary>N_e, per group.</summary>
    public int NumExperts { get; }

    public int TopK { get; }

    /// <summary>Fused native kernels, or the composed reference operations.</summary>
    public RoutedKernels Kernels { get; }

    /// <summary>(G, N_e) float32 balancing bias.</summary>
    public Tensor BalancingBias { get; }

    /// <summary>The expert load counted since the last bias update (training mode only).</summary>
    public RoutingStatistics Statistics { get; }

    /// <summary>Accumulate the mean router entropy per group (costs a softmax over all experts per forward).</summary>
    public bool TrackRouterEntropy { get; set; }

    /// <summary>
    /// Applies the auxiliary-loss-free update from the load counted since the last call (the whole
    /// global batch of one optimizer step), then clears the counters. Returns the metrics of that load.
    /// </summary>
    public IReadOnlyList<RoutingMetrics> EndStep(int layer, double? rate = null)
    {
        var metrics = Metrics(layer);
        var step = rate ?? _balancing.BiasUpdateRate;
        if (step > 0 && Statistics.Tokens > 0)
        {
            var bias = BalancingBias.ToArray<float>();
            Statistics.ApplyBiasUpdate(bias, step);
            using var scope = DisposeScope.Begin();
            using var noGrad = GradMode.NoGrad();
            BalancingBias.Copy_(Tensor.FromArray(bias, Groups, NumExperts));
        }
        Statistics.Reset();
        return metrics;
    }

    /// <summary>The metrics of the load counted so far, labelled with the whole layer's head indices.</summary>
    public IReadOnlyList<RoutingMetrics> Metrics(int layer) => Statistics.Metrics(layer, _labelGroups ? FirstGroup : null);

    /// <summary>The rows of the experts' (or heads') dimension this layer holds, as named in <see cref="PartialTensors"/>.</summary>
    protected static Dictionary<string, RowSlice> ExpertTensors(ExpertBank experts, params string[] alsoSliced)
    {
        var result = new Dictionary<string, RowSlice>();
        if (experts.Slice.IsWhole) return result;
        foreach (var (name, _) in experts.NamedParameters()) result["experts." + name] = experts.Slice;
        foreach (var name in alsoSliced) result[name] = experts.Slice;
        return result;
    }

    /// <summary>
    /// Routes G groups of tokens, input (G, n, w), with their routers (G, N_e, w). Returns the selected
    /// experts as global ids g·N_e + e, (G·n·k) Int64, row-major over (G, n, k); the gates (G·n, k)
    /// (softmax over the k selected logits, without the bias); the count per global expert; the
    /// assignments grouped by expert (fused kernels only); and the weighted auxiliary loss (null when
    /// both weights are 0).
    /// </summary>
    protected RoutedTokens Route(Tensor input, Tensor router)
    {
        using var scope = DisposeScope.Begin();
        var n = input.Size(1);
        Tensor? logits = null;                                                     // (G, n, N_e), only when needed
        Tensor expertIds, gates;
        Tensor? order = null;
        long[] counts;
        if (Kernels == RoutedKernels.Fused)
        {
            var fused = FusedRouting.Route(input, router, BalancingBias, TopK);    // never holds (G, n, N_e) whole
            (expertIds, gates, order) = (fused.ExpertIds, fused.Gates, fused.Order);
            counts = fused.Counts.ToArray<long>();                                 // (G·N_e) on the host
        }
        else
        {
            logits = Logits(input, router);
            Tensor chosen;
            using (var noGrad = GradMode.NoGrad())
            {
                var selection = logits + BalancingBias.Unsqueeze(1);               // (G, n, N_e), for selection only
                (_, chosen) = selection.TopK(TopK);                                // (G, n, k) index within the group
                expertIds = (chosen + _groupOffsets).Flatten();                    // (G·n·k) global expert id
            }
            gates = logits.Gather(-1, chosen)                                      // (G, n, k) selected logits, no bias
                .Softmax(-1).View(Groups * n, TopK);                               // (G·n, k)
            counts = expertIds.BinCount(Groups * (long)NumExperts).ToArray<long>(); // (G·N_e) on the host
        }
        if (Training) Statistics.Add(counts, n);

        // The auxiliary losses and the entropy need every logit: the fused path computes them once more for those.
        var needsLogits = _balancing.AuxLossWeight != 0 || _balancing.ZLossWeight != 0 || (TrackRouterEntropy && Training);
        if (needsLogits) logits ??= Logits(input, router);
        var aux = logits is null ? null : AuxiliaryLoss(logits, counts, n);
        if (TrackRouterEntropy && Training) Statistics.AddRouterEntropy(logits!);
        return new RoutedTokens(scope.MoveToOuter(expertIds), scope.MoveToOuter(gates), counts,
            aux is null ? null : scope.MoveToOuter(aux)) { Order = order is null ? null : scope.MoveToOuter(order) };
    }

    /// <summary>input (G, n, w), router (G, N_e, w) -> logits (G, n, N_e): a linear layer for one group, a batched product for several.</summary>
    private static Tensor Logits(Tensor input, Tensor router)
    {
        using var scope = DisposeScope.Begin();
        var logits = input.Size(0) == 1
            ? Functional.Linear(input.Select(0, 0), router.Select(0, 0)).Unsqueeze(0)   // (1, n, N_e)
            : input.MatMul(router.Transpose(-2, -1));                                   // (G, n, N_e)
        return scope.MoveToOuter(logits);
    }

    /// <summary>rows (R, w) -> (R, w) through the experts held here, or through the dispatch when they are spread over ranks.</summary>
    protected static Tensor ApplyExperts(ExpertBank experts, IExpertDispatch? dispatch, Tensor rows, RoutedTokens routed)
    {
        if (dispatch is not null) return dispatch.Apply(experts, rows, routed);
        if (!experts.Slice.IsWhole)
            throw new InvalidOperationException(
                $"this layer holds experts [{experts.Slice.Start}, {experts.Slice.Start + experts.Slice.Count}) of {experts.Slice.Total}; an expert-parallel dispatch must be installed before the forward pass");
        return experts.Apply(rows, routed.ExpertIds, routed.Gates, routed.Counts, routed.Order);
    }

    /// <summary>
    /// aux_loss_weight · Switch loss + z_loss_weight · z-loss, each averaged over the groups.
    /// Switch: N_e · Σ_e f_e · P_e, with f_e the fraction of the n·k assignments that went to e and P_e the
    /// mean router probability of e (softmax over all N_e logits). z-loss: mean over tokens of logsumexp(logits)².
    /// </summary>
    private Tensor? AuxiliaryLoss(Tensor logits, long[] counts, long n)
    {
        var (switchWeight, zWeight) = (_balancing.AuxLossWeight, _balancing.ZLossWeight);
        if (switchWeight == 0 && zWeight == 0) return null;
        using var scope = DisposeScope.Begin();
        Tensor? total = null;
        if (switchWeight > 0)
        {
            var fractions = new float[counts.Length];
            for (var i = 0; i < counts.Length; i++) fractions[i] = (float)(counts[i] / (double)(n * TopK));
            var f = Tensor.FromArray(fractions, Groups, NumExperts).To(logits.Dtype, logits.Device);   // (G, N_e)
            var meanProbability = logits.Softmax(-1).Mean(1);                                          // (G, N_e)
            var perGroup = (f * meanProbability).Sum(-1) * (double)NumExperts;                          // (G)
            total = perGroup.Mean() * switchWeight;
        }
        if (zWeight > 0)
        {
            var z = logits.LogSumExp(-1).Square().Mean() * zWeight;   // mean over (G, n)
            total = total is null ? z : total + z;
        }
        return scope.MoveToOuter(total!);
    }
}

/// <summary>
/// The routing of one forward pass. ExpertIds (G·n·k) Int64 global expert ids; Gates (G·n, k);
/// Counts (G·N_e) on the host; AuxLoss the weighted auxiliary loss, if any; Order (G·n·k) Int64, the
/// assignments grouped by expert, when the router computed it (the fused one does).
/// </summary>
public readonly record struct RoutedTokens(Tensor ExpertIds, Tensor Gates, long[] Counts, Tensor? AuxLoss)
{
    public Tensor? Order { get; init; }
}
