using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

// Views, reshapes and joins. View-producing operations share storage with this tensor.
public partial class Tensor
{
    public Tensor View(params long[] shape) => ShapeOp(Native.ShapeOp.View, shape);
    public Tensor Reshape(params long[] shape) => ShapeOp(Native.ShapeOp.Reshape, shape);
    public Tensor Expand(params long[] shape) => ShapeOp(Native.ShapeOp.Expand, shape);
    public Tensor Permute(params long[] dims) => ShapeOp(Native.ShapeOp.Permute, dims);
    public Tensor Repeat(params long[] repeats) => ShapeOp(Native.ShapeOp.Repeat, repeats);
    public Tensor Transpose(int dim0, int dim1) => ShapeOp(Native.ShapeOp.Transpose, [dim0, dim1]);

    /// <summary>Transpose of the last two dimensions.</summary>
    public Tensor T => Transpose(-2, -1);

    public Tensor Squeeze(int dim) => ShapeOp(Native.ShapeOp.Squeeze, [dim]);
    public Tensor Unsqueeze(int dim) => ShapeOp(Native.ShapeOp.Unsqueeze, [dim]);
    public Tensor Flatten(int startDim = 0, int endDim = -1) => ShapeOp(Native.ShapeOp.Flatten, [startDim, endDim]);
    public Tensor Narrow(int dim, long start, long length) => ShapeOp(Native.ShapeOp.Narrow, [dim, start, length]);

    /// <summary>The slice at one index of a dimension, with that dimension removed.</summary>
    public Tensor Select(int dim, long index) => ShapeOp(Native.ShapeOp.Select, [dim, index]);

    public Tensor Slice(int dim, long start, long end, long step = 1) => ShapeOp(Native.ShapeOp.Slice, [dim, start, end, step]);

    /// <summary>Lower triangle (elements above the given diagonal set to zero).</summary>
    public Tensor Tril(long diagonal = 0) => ShapeOp(Native.ShapeOp.Tril, [diagonal]);

    public Tensor Triu(long diagonal = 0) => ShapeOp(Native.ShapeOp.Triu, [diagonal]);
    public Tensor CumSum(int dim) => ShapeOp(Native.ShapeOp.Cumsum, [dim]);

    /// <summary>Int64 class indices to a one-hot Int64 tensor with a trailing dimension of numClasses.</summary>
    public Tensor OneHot(long numClasses) => ShapeOp(Native.ShapeOp.OneHot, [numClasses]);

    public Tensor RepeatInterleave(long repeats, int dim) => ShapeOp(Native.ShapeOp.RepeatInterleave, [repeats, dim]);

    public Tensor Contiguous() => Unary(UnaryOp.Contiguous);
    public Tensor Clone() => Unary(UnaryOp.Clone);

    /// <summary>Splits into pieces of the given sizes along a dimension (views).</summary>
    public unsafe Tensor[] Split(long[] sizes, int dim = 0)
    {
        GradMode.Sync();
        var handles = new IntPtr[sizes.Length];
        fixed (long* s = sizes)
        fixed (IntPtr* h = handles)
        {
            TorchException.Check(NativeMethods.moe_split(Handle, s, sizes.Length, dim, h));
        }
        GC.KeepAlive(this);
        return Array.ConvertAll(handles, h => new Tensor(h));
    }

    /// <summary>Splits into pieces of splitSize along a dimension; the last may be smaller (torch.split).</summary>
    public Tensor[] Split(long splitSize, int dim = 0)
    {
        if (splitSize <= 0) throw new ArgumentOutOfRangeException(nameof(splitSize), "split size must be positive");
        var total = Size(dim);
        var sizes = new List<long>();
        for (long at = 0; at < total; at += splitSize) sizes.Add(Math.Min(splitSize, total - at));
        return Split(sizes.ToArray(), dim);
    }

    /// <summary>Splits into at most <paramref name="chunks"/> pieces of equal size, the last smaller (torch.chunk).</summary>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        if (chunks <= 0) throw new ArgumentOutOfRangeException(nameof(chunks), "chunk count must be positive");
        var total = Size(dim);
        return Split(Math.Max(1, (total + chunks - 1) / chunks), dim);
    }

    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0) => Join(tensors, dim, stack: false);

    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0) => Join(tensors, dim, stack: true);

    private static unsafe Tensor Join(IReadOnlyList<Tensor> tensors, int dim, bool stack)
    {
        GradMode.Sync();
        var handles = new IntPtr[tensors.Count];
        for (var i = 0; i < handles.Length; i++) handles[i] = tensors[i].Handle;
        IntPtr r;
        fixed (IntPtr* h = handles) TorchException.Check(NativeMethods.moe_cat(h, handles.Length, dim, stack ? 1 : 0, &r));
        GC.KeepAlive(tensors);
        return new Tensor(r);
    }
}
