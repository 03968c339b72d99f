using System.Text;
using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

/// <summary>Process-wide settings and capabilities of the loaded libtorch.</summary>
public static class TorchRuntime
{
    /// <summary>The libtorch version the native library was built against, e.g. "1.13.0".</summary>
    public static unsafe string Version
    {
        get
        {
            var buffer = new byte[64];
            long length;
            fixed (byte* p = buffer) TorchException.Check(NativeMethods.moe_version(p, buffer.Length, &length));
            return Encoding.UTF8.GetString(buffer, 0, (int)Math.Min(length, buffer.Length));
        }
    }

    public static bool CudaAvailable => Capabilities().CudaAvailable;

    public static int CudaDeviceCount => Capabilities().CudaDeviceCount;

    /// <summary>
    /// Whether the native library was built against a CUDA libtorch; a GPU may still be absent
    /// (<see cref="CudaAvailable"/> tells whether one is seen).
    /// </summary>
    public static unsafe bool CudaBuilt
    {
        get
        {
            int built;
            TorchException.Check(NativeMethods.moe_cuda_built(&built));
            return built != 0;
        }
    }

    /// <summary>Free and total bytes of GPU <paramref name="index"/> (cudaMemGetInfo); fails naming the cause without CUDA.</summary>
    public static unsafe (long FreeBytes, long TotalBytes) CudaMemory(int index)
    {
        long free, total;
        TorchException.Check(NativeMethods.moe_cuda_memory(index, &free, &total));
        return (free, total);
    }

    /// <summary>
    /// Waits until the kernels queued on <paramref name="device"/> have run (CUDA runs them
    /// asynchronously, so a timing ends here); returns at once for the CPU.
    /// </summary>
    public static void Synchronize(Device device)
    {
        if (device.Type == DeviceType.Cuda) TorchException.Check(NativeMethods.moe_cuda_synchronize(device.Index));
    }

    /// <summary>The loaded libtorch in words, e.g. "libtorch 1.13.0, CPU only" or "libtorch 2.11.0, CUDA, 1 GPU".</summary>
    public static string Describe()
    {
        if (!CudaBuilt) return $"libtorch {Version}, CPU only";
        var count = CudaDeviceCount;
        return $"libtorch {Version}, CUDA, {count} GPU{(count == 1 ? "" : "s")}";
    }

    private static unsafe (bool CudaAvailable, int CudaDeviceCount) Capabilities()
    {
        int available, count;
        TorchException.Check(NativeMethods.moe_capabilities(&available, &count));
        return (available != 0, count);
    }

    /// <summary>Threads libtorch uses for intra-op parallelism (OpenMP).</summary>
    public static unsafe int Threads
    {
        get
        {
            int n;
            TorchException.Check(NativeMethods.moe_get_num_threads(&n));
            return n;
        }
        set => TorchException.Check(NativeMethods.moe_set_num_threads(value));
    }

    /// <summary>Seeds libtorch's default generator (used where no <see cref="Generator"/> is passed).</summary>
    public static void ManualSeed(ulong seed) => TorchException.Check(NativeMethods.moe_manual_seed(seed));
}
