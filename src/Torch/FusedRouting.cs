using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

/// <summary>
/// The fused kernels of the routed layers (native/src/fused_router.cpp, fused_experts.cpp): the router
/// and the expert bank of every routing group, each one native call and one autograd node.
/// </summary>
public static class FusedRouting
{
    /// <summary>
    /// x (G, n, d), router (G, N_e, d), bias (G, N_e): top-k of x·routerᵀ + bias per token and group, with
    /// the logits computed <paramref name="chunkRows"/> tokens at a time (0: blocks of about 64 Ki logits).
    /// Gates (G·n, k) are the softmax over the k selected logits without the bias, differentiable in x and
    /// router; ExpertIds (G·n·k) Int64 global ids g·N_e + e; Counts (G·N_e) Int64; Order (G·n·k) Int64, the
    /// assignments grouped by expert (what a stable argsort of ExpertIds gives).
    /// </summary>
    public static unsafe FusedRoute Route(Tensor x, Tensor router, Tensor bias, long k, long chunkRows = 0)
    {
        GradMode.Sync();
        IntPtr gates, ids, counts, order;
        TorchException.Check(NativeMethods.moe_fused_route(x.Handle, router.Handle, bias.Handle, k, chunkRows, &gates, &ids, &counts, &order));
        GC.KeepAlive(x);
        GC.KeepAlive(router);
        GC.KeepAlive(bias);
        return new FusedRoute(new Tensor(gates), new Tensor(ids), new Tensor(counts), new Tensor(order));
    }

    /// <summary>
    /// rows (R, w) through E experts, each a bias-free MLP with stacked weights wUp, wGate (E..., d_e, w) and
    /// wDown (E..., w, d_e). gates (R, k) with order (A) the indices of the flattened (R, k) assignments
    /// grouped by expert, counts[e] of them for expert e; or gates and order null when rows are already
    /// grouped by expert (each row its own assignment, weight 1). Returns (R, w): per row, the sum over its
    /// assignments of gate · expert(row). The hidden layers are recomputed in the backward, not kept.
    /// </summary>
    public static unsafe Tensor Experts(Tensor rows, Tensor? gates, Tensor? order, long[] counts, Tensor wUp, Tensor? wGate,
        Tensor wDown, bool swiglu)
    {
        GradMode.Sync();
        IntPtr r;
        fixed (long* c = counts)
        {
            TorchException.Check(NativeMethods.moe_fused_experts(rows.Handle, gates?.Handle ?? IntPtr.Zero, order?.Handle ?? IntPtr.Zero,
                c, counts.Length, wUp.Handle, wGate?.Handle ?? IntPtr.Zero, wDown.Handle, swiglu ? 1 : 0, &r));
        }
        GC.KeepAlive(rows);
        GC.KeepAlive(gates);
        GC.KeepAlive(order);
        GC.KeepAlive(wUp);
        GC.KeepAlive(wGate);
        GC.KeepAlive(wDown);
        return new Tensor(r);
    }
}

/// <summary>The outputs of <see cref="FusedRouting.Route"/>: Gates (G·n, k), ExpertIds, Counts (G·N_e) and Order, all tensors.</summary>
public readonly record struct FusedRoute(Tensor Gates, Tensor ExpertIds, Tensor Counts, Tensor Order);
