using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

// Gathering, scattering, sorting and counting by Int64 indices.
public partial class Tensor
{
    public unsafe Tensor IndexSelect(int dim, Tensor index)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_index_select(Handle, dim, index.Handle, &r));
        GC.KeepAlive(this);
        GC.KeepAlive(index);
        return new Tensor(r);
    }

    public unsafe Tensor Gather(int dim, Tensor index)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_gather(Handle, dim, index.Handle, &r));
        GC.KeepAlive(this);
        GC.KeepAlive(index);
        return new Tensor(r);
    }

    /// <summary>A copy of this tensor with source added at the indexed positions (out-of-place scatter_add).</summary>
    public unsafe Tensor ScatterAdd(int dim, Tensor index, Tensor source)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_scatter_add(Handle, dim, index.Handle, source.Handle, &r));
        GC.KeepAlive(this);
        GC.KeepAlive(index);
        GC.KeepAlive(source);
        return new Tensor(r);
    }

    /// <summary>A copy of this tensor with source's slices added at the indexed positions of dim (out-of-place index_add).</summary>
    public unsafe Tensor IndexAdd(int dim, Tensor index, Tensor source)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_index_add(Handle, dim, index.Handle, source.Handle, &r));
        GC.KeepAlive(this);
        GC.KeepAlive(index);
        GC.KeepAlive(source);
        return new Tensor(r);
    }

    public unsafe (Tensor Values, Tensor Indices) TopK(long k, int dim = -1, bool largest = true, bool sorted = true)
    {
        GradMode.Sync();
        IntPtr v, i;
        TorchException.Check(NativeMethods.moe_topk(Handle, k, dim, largest ? 1 : 0, sorted ? 1 : 0, &v, &i));
        GC.KeepAlive(this);
        return (new Tensor(v), new Tensor(i));
    }

    /// <summary>Sorted values and their original indices; stable keeps equal elements in input order.</summary>
    public unsafe (Tensor Values, Tensor Indices) Sort(int dim = -1, bool descending = false, bool stable = false)
    {
        GradMode.Sync();
        IntPtr v, i;
        TorchException.Check(NativeMethods.moe_sort(Handle, dim, descending ? 1 : 0, stable ? 1 : 0, &v, &i));
        GC.KeepAlive(this);
        return (new Tensor(v), new Tensor(i));
    }

    public Tensor ArgSort(int dim = -1, bool descending = false, bool stable = false)
    {
        var (values, indices) = Sort(dim, descending, stable);
        values.Dispose();
        return indices;
    }

    /// <summary>Counts of each value of a 1-D non-negative Int64 tensor, at least minLength long.</summary>
    public unsafe Tensor BinCount(long minLength = 0, Tensor? weights = null)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_bincount(Handle, weights?.Handle ?? IntPtr.Zero, minLength, &r));
        GC.KeepAlive(this);
        GC.KeepAlive(weights);
        return new Tensor(r);
    }

    /// <summary>Indices of the non-zero elements, shape (count, Dim).</summary>
    public Tensor Nonzero() => Unary(UnaryOp.Nonzero);
}
