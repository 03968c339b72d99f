using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Training.Parallel;

/// <summary>
/// Head parallelism's exchange for one Multi-Head LatentMoE layer (paper §3.2): one all-to-all with
/// static, equal splits before routing and its reverse after, so the traffic is n·d values per rank
/// and direction whatever k or the routing, the same on every rank, and needs no metadata. The send
/// buffer is laid out [destination rank][token][head within that rank], and inverted exactly after.
/// </summary>
public sealed class HeadParallelExchange : IHeadExchange
{
    private readonly ProcessGroup _group;
    private readonly TrafficCounter _dispatch;
    private readonly TrafficCounter _combine;
    private readonly string _label;

    public HeadParallelExchange(ProcessGroup group, int layer, CommunicationLedger ledger)
    {
        _group = group;
        _dispatch = ledger.For(layer, "dispatch");
        _combine = ledger.For(layer, "combine");
        _label = $"layer {layer} head exchange";
    }

    /// <summary>(N_h, n, d_h) -> (H, P·n, d_h), H = N_h / P; tokens in rank order.</summary>
    public Tensor ToHeadOwners(Tensor subTokens)
    {
        using var scope = DisposeScope.Begin();
        var (p, heads, n, dh) = (_group.WorldSize, subTokens.Size(0), subTokens.Size(1), subTokens.Size(2));
        var h = heads / p;
        var send = subTokens.View(p, h, n, dh).Transpose(1, 2).Contiguous()     // (P, n, H, d_h): block r for rank r
            .View(p * n, h * dh);                                                // (P·n, H·d_h)
        var received = _group.AllToAll(send, counter: _dispatch, label: _label); // (P·n, H·d_h): block r from rank r
        var local = received.View(p * n, h, dh).Transpose(0, 1).Contiguous();    // (H, P·n, d_h)
        return scope.MoveToOuter(local);
    }

    /// <summary>(H, P·n, d_h) -> (N_h, n, d_h).</summary>
    public Tensor ToTokenOwners(Tensor headOutputs)
    {
        using var scope = DisposeScope.Begin();
        var (p, h, m, dh) = (_group.WorldSize, headOutputs.Size(0), headOutputs.Size(1), headOutputs.Size(2));
        var n = m / p;
        var send = headOutputs.Transpose(0, 1).Contiguous().View(m, h * dh);    // (P·n, H·d_h): block r = rank r's tokens
        var received = _group.AllToAll(send, counter: _combine, label: _label); // (P·n, H·d_h): block r = heads of rank r
        var merged = received.View(p, n, h, dh).Permute(0, 2, 1, 3)             // (P, H, n, d_h)
            .Reshape(p * h, n, dh);                                              // (N_h, n, d_h), heads in order
        return scope.MoveToOuter(merged);
    }
}
