using Orleans.MoE.Torch;

namespace Orleans.MoE.Silo.Hosting;

/// <summary>
/// This machine's GPUs as the loaded libtorch sees them: whether the native library was built with
/// CUDA, and the total memory of each GPU (cudaMemGetInfo). A CPU build reports none.
/// </summary>
public sealed record GpuInventory(bool CudaBuilt, string Libtorch, IReadOnlyList<long> TotalBytes)
{
    public int Count => TotalBytes.Count;

    /// <summary>Asks the loaded libtorch (loads the native library).</summary>
    public static GpuInventory Query()
    {
        var built = TorchRuntime.CudaBuilt;
        var count = built ? TorchRuntime.CudaDeviceCount : 0;
        var memory = Enumerable.Range(0, count).Select(i => TorchRuntime.CudaMemory(i).TotalBytes).ToList();
        return new GpuInventory(built, TorchRuntime.Describe(), memory);
    }

    /// <summary>Why no GPU can be used, in words, for an error message; null when there is one.</summary>
    public string? Absence => Count > 0 ? null
        : CudaBuilt ? $"{Libtorch} has CUDA but sees no GPU (check the driver with nvidia-smi and CUDA_VISIBLE_DEVICES)"
        : $"the native library was built against {Libtorch}; build native/ against a CUDA libtorch (README: Building against another libtorch (CUDA))";
}
