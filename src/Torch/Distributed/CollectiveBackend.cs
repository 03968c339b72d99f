namespace Orleans.MoE.Torch.Distributed;

/// <summary>The c10d backend of a <see cref="ProcessGroup"/>.</summary>
public enum CollectiveBackend
{
    /// <summary>CPU tensors over TCP; always available.</summary>
    Gloo = 0,
    /// <summary>CUDA tensors; only with a native library built against a CUDA libtorch.</summary>
    Nccl = 1,
}
