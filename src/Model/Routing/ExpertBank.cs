using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Routing;

/// <summary>
/// The routed experts of one layer, each a bias-free MLP (width -> expert_dim -> width; GELU, or SwiGLU),
/// with their weights stacked in one tensor per matrix: shape (group..., expert, out, in), e.g.
/// (N_e, d_e, d) for an MoE or (N_h, N_e, d_e, d_h) for Multi-Head LatentMoE. One expert (or one head) is
/// then a slice, which is how a DisCo submodel or a head-parallel rank takes its share.
/// <para>
/// Computation is dropless: every (token, expert) assignment is computed, with no capacity limit. The
/// assignments are sorted by expert so each expert multiplies one contiguous block of rows, and the
/// gate-weighted results are added back to their tokens.
/// </para>
/// <para>
/// With the fused kernels (<see cref="RoutedKernels.Fused"/>) that whole pass is one native call and one
/// autograd node: no gathered copy of the inputs and no hidden layer is kept for the backward, which
/// recomputes them expert by expert. The reference kernels compose the same steps from tensor operations.
/// </para>
/// </summary>
public sealed class ExpertBank : Module
{
    private readonly Activation _activation;

    /// <param name="groupShape">the leading dimensions of the whole layer, (N_e) or (N_h, N_e); their product is the number of experts</param>
    /// <param name="scaledOutput">whether the down-projection writes into the residual stream (std / sqrt(2 n_layers))</param>
    /// <param name="slice">the rows of dimension 0 (experts, or heads) this bank holds; null for all of them</param>
    /// <param name="kernels">fused native kernels, or the composed reference operations</param>
    public ExpertBank(long[] groupShape, int width, int expertDim, Activation activation, bool scaledOutput, WeightInit init,
        RowSlice? slice = null, RoutedKernels kernels = RoutedKernels.Fused)
    {
        _activation = activation;
        Kernels = kernels;
        Width = width;
        ExpertDim = expertDim;
        Slice = slice ?? new RowSlice(0, groupShape[0], groupShape[0]);
        Count = groupShape.Aggregate(1L, (a, b) => a * b) / groupShape[0] * Slice.Count;
        long[] inShape = [.. groupShape, expertDim, width];
        long[] outShape = [.. groupShape, width, expertDim];
        if (activation == Activation.Swiglu) WGate = RegisterParameter("w_gate", init.Normal(inShape, Slice));
        WUp = RegisterParameter("w_up", init.Normal(inShape, Slice));
        WDown = RegisterParameter("w_down", scaledOutput ? init.OutputProjection(outShape, Slice) : init.Normal(outShape, Slice));
    }

    /// <summary>Number of experts this bank holds (over all its heads).</summary>
    public long Count { get; }

    /// <summary>The rows of the whole layer's dimension 0 (experts of an MoE, heads of a Multi-Head LatentMoE) held here.</summary>
    public RowSlice Slice { get; }

    public int Width { get; }

    /// <summary>Fused native kernels, or the composed reference operations.</summary>
    public RoutedKernels Kernels { get; }

    public int ExpertDim { get; }

    private bool Swiglu => _activation == Activation.Swiglu;

    /// <summary>(group..., d_e, width), SwiGLU only.</summary>
    public Parameter? WGate { get; }

    /// <summary>(group..., d_e, width)</summary>
    public Parameter WUp { get; }

    /// <summary>(group..., width, d_e)</summary>
    public Parameter WDown { get; }

    /// <summary>
    /// rows (R, width); expertIds (R·k) Int64 in [0, Count), row-major over (R, k); gates (R, k);
    /// counts[e] = how many entries of expertIds equal e (already on the host: they size the groups).
    /// order, when the router computed it, is the assignments grouped by expert (a stable argsort of expertIds).
    /// Returns (R, width): for each row, the sum over its k experts of gate · expert(row).
    /// </summary>
    public Tensor Apply(Tensor rows, Tensor expertIds, Tensor gates, long[] counts, Tensor? order = null)
    {
        using var scope = DisposeScope.Begin();
        if (Kernels == RoutedKernels.Fused)
        {
            var grouping = order ?? expertIds.ArgSort(stable: true);                              // (R·k)
            return scope.MoveToOuter(FusedRouting.Experts(rows, gates, grouping, counts, WUp, WGate, WDown, Swiglu)); // (R, width)
        }
        var k = gates.Size(-1);
        order = expertIds.ArgSort(stable: true);                       // (R·k) assignments grouped by expert
        var sourceRow = order.FloorDivide(k);                          // (R·k) the token row of each assignment
        var grouped = rows.IndexSelect(0, sourceRow);                  // (R·k, width), expert e's rows contiguous
        var groupedGates = gates.Flatten().IndexSelect(0, order);      // (R·k)

        var outputs = ApplyGrouped(grouped, counts);                   // (R·k, width)
        var weighted = outputs * groupedGates.Unsqueeze(1);            // (R·k, width)
        // Under bf16 autocast the experts' products are bfloat16: the sum is kept in the rows' dtype.
        if (weighted.Dtype != rows.Dtype) weighted = weighted.To(rows.Dtype);
        var combined = rows.ZerosLike().IndexAdd(0, sourceRow, weighted);   // (R, width)
        return scope.MoveToOuter(combined);
    }

    /// <summary>
    /// grouped (Σ counts, width) with this bank's expert e's rows in block e (counts has one entry per
    /// expert held here) -> the experts' outputs, same shape. One split of the inputs and of each weight
    /// stack (a single autograd node each, whose backward is one concatenation), then one MLP per
    /// non-empty expert.
    /// </summary>
    public Tensor ApplyGrouped(Tensor grouped, long[] counts)
    {
        using var scope = DisposeScope.Begin();
        if (Kernels == RoutedKernels.Fused)
            return scope.MoveToOuter(FusedRouting.Experts(grouped, null, null, counts, WUp, WGate, WDown, Swiglu));   // (Σ counts, width)
        var blocks = grouped.Split(counts);                                           // Count x (n_e, width)
        var ups = WUp.View(Count * ExpertDim, Width).Split(ExpertDim);                 // Count x (d_e, width)
        var downs = WDown.View(Count * Width, ExpertDim).Split(Width);                // Count x (width, d_e)
        var gates = WGate?.View(Count * ExpertDim, Width).Split(ExpertDim);           // Count x (d_e, width)
        var outputs = new List<Tensor>(counts.Length);
        for (var e = 0; e < counts.Length; e++)
        {
            if (counts[e] == 0) continue;
            var hidden = DenseMlp.Activate(blocks[e], ups[e], gates?[e], _activation);    // (n_e, d_e)
            outputs.Add(Functional.Linear(hidden, downs[e]));                             // (n_e, width)
        }
        var result = outputs.Count == 0 ? grouped.ZerosLike() : Tensor.Cat(outputs, 0);
        return scope.MoveToOuter(result);
    }
}
