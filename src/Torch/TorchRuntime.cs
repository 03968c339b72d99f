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
