using System.Runtime.InteropServices;

namespace Orleans.MoE.Torch.Tests;

/// <summary>
/// The thread count set through the binding governs OpenBLAS too: its matrix products sum in another
/// order with another thread count, so a run's losses must not depend on the OMP_NUM_THREADS its
/// process was started with.
/// </summary>
public sealed partial class ThreadSettingTests
{
    [LibraryImport("libopenblas.so.0")]
    private static partial int openblas_get_num_threads();

    [Fact]
    public void SettingTheThreadsSetsOpenBlasThreads()
    {
        var before = TorchRuntime.Threads;
        try
        {
            TorchRuntime.Threads = 1;
            Assert.Equal(1, openblas_get_num_threads());
            Assert.Equal(1, TorchRuntime.Threads);
            if (Environment.ProcessorCount < 2) return;
            TorchRuntime.Threads = 2;
            Assert.Equal(2, openblas_get_num_threads());
        }
        finally
        {
            TorchRuntime.Threads = before;
        }
    }
}
