using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model.Blocks;

/// <summary>
/// Rotary position embeddings. Channel pairs are interleaved, (x0, x1), (x2, x3), ..., as torchtune's
/// RotaryPositionalEmbeddings, which the paper's code uses: pair i at position t is rotated by
/// t * base^(-2i / head_dim). The angle tables are computed in double precision and stored in the
/// model's dtype.
/// </summary>
public sealed class RotaryEmbedding : Module
{
    private readonly long _half;
    private readonly Tensor _cos;   // (max_seq_len, head_dim / 2)
    private readonly Tensor _sin;   // (max_seq_len, head_dim / 2)

    public RotaryEmbedding(int headDim, int maxSeqLen, double ropeBase, ScalarType dtype, Device device)
    {
        if (headDim % 2 != 0) throw new ArgumentException($"rotary embeddings need an even head width, got {headDim}", nameof(headDim));
        _half = headDim / 2;
        var cos = new double[maxSeqLen * _half];
        var sin = new double[maxSeqLen * _half];
        for (var t = 0; t < maxSeqLen; t++)
        {
            for (var i = 0; i < _half; i++)
            {
                var angle = t * Math.Pow(ropeBase, -2.0 * i / headDim);
                cos[t * _half + i] = Math.Cos(angle);
                sin[t * _half + i] = Math.Sin(angle);
            }
        }
        _cos = RegisterBuffer("cos", Table(cos, maxSeqLen, dtype, device), persistent: false);
        _sin = RegisterBuffer("sin", Table(sin, maxSeqLen, dtype, device), persistent: false);
    }

    private Tensor Table(double[] values, int rows, ScalarType dtype, Device device)
    {
        using var scope = DisposeScope.Begin();
        var table = Tensor.FromArray<double>(values, [rows, _half]).To(dtype, device);
        return scope.MoveToOuter(table).DetachFromScope();
    }

    /// <summary>
    /// Rotates x of shape (B, T, G..., head_dim), where G... are any number of head dimensions, by the
    /// angles of positions 0..T-1. With <paramref name="positionDim"/> the positions are on another
    /// dimension, e.g. 3 for (2, B, H, T, head_dim). x may be any strided view whose last dimension is
    /// contiguous; the result is contiguous in x's shape.
    /// </summary>
    public Tensor Forward(Tensor x, int positionDim = 1)
    {
        using var scope = DisposeScope.Begin();
        var shape = x.Shape;
        var t = shape[positionDim];
        var tableShape = new long[shape.Length - positionDim];   // (T, 1..., head_dim / 2): broadcasts over every other dimension
        Array.Fill(tableShape, 1L);
        tableShape[0] = t;
        tableShape[^1] = _half;
        var cos = _cos.Narrow(0, 0, t).View(tableShape);
        var sin = _sin.Narrow(0, 0, t).View(tableShape);

        var pairShape = shape.Take(shape.Length - 1).Concat([_half, 2L]).ToArray();
        var pairs = x.View(pairShape);                     // (..., head_dim / 2, 2)
        var even = pairs.Select(-1, 0);                    // (..., head_dim / 2)
        var odd = pairs.Select(-1, 1);
        var rotatedEven = even * cos - odd * sin;
        var rotatedOdd = odd * cos + even * sin;
        var rotated = Tensor.Stack([rotatedEven, rotatedOdd], -1);   // (..., head_dim / 2, 2), contiguous
        return scope.MoveToOuter(rotated.View(shape));              // (..., head_dim)
    }
}
