using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Blocks;

/// <summary>
/// Causal multi-head self-attention with rotary embeddings and no biases. The query, key and value
/// projections are one (3d, d) matrix, so one matrix product serves all three. libtorch 1.13 has no
/// fused scaled-dot-product attention, so scores are formed explicitly: softmax(q kᵀ / sqrt(d_head) + mask) v.
/// </summary>
public sealed class CausalSelfAttention : Module
{
    private readonly int _heads;
    private readonly int _headDim;
    private readonly double _scale;
    private readonly RotaryEmbedding _rotary;
    private readonly Tensor _futureMask;   // (max_seq_len, max_seq_len) bool, true above the diagonal

    public CausalSelfAttention(int dModel, int heads, int maxSeqLen, double ropeBase, WeightInit init)
    {
        _heads = heads;
        _headDim = dModel / heads;
        _scale = 1.0 / Math.Sqrt(_headDim);
        Wqkv = RegisterParameter("wqkv", init.Normal(3L * dModel, dModel));
        Wo = RegisterParameter("wo", init.OutputProjection(dModel, dModel));
        _rotary = RegisterModule("rotary", new RotaryEmbedding(_headDim, maxSeqLen, ropeBase, init.Dtype, init.Device));
        using (var scope = DisposeScope.Begin())
        {
            var mask = Tensor.Ones([maxSeqLen, maxSeqLen], ScalarType.Bool, init.Device).Triu(1);
            _futureMask = RegisterBuffer("future_mask", scope.MoveToOuter(mask), persistent: false);
        }
    }

    /// <summary>(3d, d): rows [0, d) project queries, [d, 2d) keys, [2d, 3d) values; within each, head h owns rows [h d_head, (h+1) d_head).</summary>
    public Parameter Wqkv { get; }

    /// <summary>(d, d)</summary>
    public Parameter Wo { get; }

    /// <summary>(B, T, d) -> (B, T, d)</summary>
    public Tensor Forward(Tensor x)
    {
        using var scope = DisposeScope.Begin();
        var shape = x.Shape;
        long b = shape[0], t = shape[1], d = shape[2];

        var qkv = Functional.Linear(x, Wqkv).View(b, t, 3, _heads, _headDim);   // (B, T, 3, H, Dh)
        // The rotation writes queries and keys head-major, so the score product reads both in place (k as a
        // transposed operand) instead of first copying them out of the (B, T, H, Dh) layout.
        var qk = _rotary.Forward(qkv.Narrow(2, 0, 2).Permute(2, 0, 3, 1, 4), positionDim: 3);   // (2, B, H, T, Dh), contiguous
        var q = qk.Select(0, 0);                                                 // (B, H, T, Dh)
        var k = qk.Select(0, 1);                                                 // (B, H, T, Dh)
        var v = qkv.Select(2, 2).Transpose(1, 2);                                // (B, H, T, Dh)

        var scores = (q * _scale).MatMul(k.Transpose(-2, -1));                  // (B, H, T, T)
        var mask = _futureMask.Narrow(0, 0, t).Narrow(1, 0, t);                 // (T, T)
        var weights = scores.MaskedFill(mask, double.NegativeInfinity).Softmax(-1);
        var context = weights.MatMul(v);                                         // (B, H, T, Dh)
        var merged = context.Transpose(1, 2).Reshape(b, t, d);                   // (B, T, d)
        return scope.MoveToOuter(Functional.Linear(merged, Wo));                 // (B, T, d)
    }
}
