using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

/// <summary>Neural-network functions, as torch.nn.functional.</summary>
public static class Functional
{
    /// <summary>x @ weightᵀ + bias, with weight of shape (out, in).</summary>
    public static unsafe Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_linear(input.Handle, weight.Handle, bias?.Handle ?? IntPtr.Zero, &r));
        GC.KeepAlive(input);
        GC.KeepAlive(weight);
        GC.KeepAlive(bias);
        return new Tensor(r);
    }

    /// <summary>Rows of weight (vocab, dim) picked by Int64 indices of any shape: result (..., dim).</summary>
    public static unsafe Tensor Embedding(Tensor weight, Tensor indices)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_embedding(weight.Handle, indices.Handle, &r));
        GC.KeepAlive(weight);
        GC.KeepAlive(indices);
        return new Tensor(r);
    }

    /// <summary>
    /// Cross entropy of logits (N, C) against Int64 targets (N); targets equal to ignoreIndex
    /// contribute nothing, and the mean is over the targets that count.
    /// </summary>
    public static unsafe Tensor CrossEntropy(Tensor logits, Tensor targets, long ignoreIndex = -100,
        Reduction reduction = Reduction.Mean, double labelSmoothing = 0.0)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_cross_entropy(logits.Handle, targets.Handle, ignoreIndex, (int)reduction,
            labelSmoothing, &r));
        GC.KeepAlive(logits);
        GC.KeepAlive(targets);
        return new Tensor(r);
    }

    /// <summary>
    /// Zeroes elements with probability p and scales the rest by 1/(1-p) while training; the identity
    /// otherwise. With a generator the mask is reproducible by seed.
    /// </summary>
    public static unsafe Tensor Dropout(Tensor input, double p, bool training, Generator? generator = null)
    {
        GradMode.Sync();
        IntPtr r;
        TorchException.Check(NativeMethods.moe_dropout(input.Handle, p, training ? 1 : 0, Tensor.GeneratorHandle(generator), &r));
        GC.KeepAlive(input);
        GC.KeepAlive(generator);
        return new Tensor(r);
    }

    public static Tensor Softmax(Tensor input, int dim) => input.Softmax(dim);
    public static Tensor LogSoftmax(Tensor input, int dim) => input.LogSoftmax(dim);
    public static Tensor Gelu(Tensor input) => input.Gelu();
    public static Tensor Silu(Tensor input) => input.Silu();
}

public enum Reduction { None = 0, Mean = 1, Sum = 2 }
