using System.Runtime.CompilerServices;
using Orleans.MoE.Torch.Tests.Support;
using Xunit.Abstractions;

namespace Orleans.MoE.Torch.Tests;

/// <summary>
/// Native memory is released when tensors are disposed, by hand, by a scope, or as a last resort by
/// the finalizer. In the serial collection: the tests read the process-wide live count and the
/// process's resident memory (see <see cref="ProcessWideTensorCount"/>).
/// </summary>
[Collection(ProcessWideTensorCount.Name)]
public class TensorLifetimeTests(ITestOutputHelper output)
{
    private const int Cycles = 100_000;

    /// <summary>Resident memory may move a little (allocator arenas, GC heap); a leak of even one 16 KiB tensor per cycle would be 1.6 GB.</summary>
    private const long AllowedGrowthBytes = 20L * 1024 * 1024;

    [Fact]
    public void ManyCreateDisposeCyclesLeaveNativeMemoryFlat() =>
        AssertFlat("using", n =>
        {
            for (var i = 0; i < n; i++)
            {
                using var a = Tensor.Randn([64, 64]); // (64, 64)
                using var b = a + a;                  // (64, 64)
            }
        });

    [Fact]
    public void ManyCyclesWithADisposeScopeEachLeaveNativeMemoryFlat() =>
        AssertFlat("scope", n =>
        {
            for (var i = 0; i < n; i++)
            {
                using var scope = DisposeScope.Begin();
                var a = Tensor.Randn([64, 64]); // (64, 64)
                _ = a + a;                      // (64, 64)
            }
        });

    private void AssertFlat(string what, Action<int> cycles)
    {
        var start = ProcessWideTensorCount.Settle();
        cycles(Cycles / 5); // warm-up: JIT, allocator arenas, libtorch's thread pool
        ProcessWideTensorCount.Settle();
        var (residentBefore, nativeBefore) = (ProcessWideTensorCount.ResidentBytes(), ProcessWideTensorCount.NativeResidentBytes());

        cycles(Cycles);

        // Collect first, so that tensors only the finalizer would release cannot hide behind the count.
        ProcessWideTensorCount.Settle();
        var (residentAfter, nativeAfter) = (ProcessWideTensorCount.ResidentBytes(), ProcessWideTensorCount.NativeResidentBytes());
        output.WriteLine($"{what}: resident {MiB(residentBefore)} -> {MiB(residentAfter)} MiB, " +
                         $"outside the GC heap {MiB(nativeBefore)} -> {MiB(nativeAfter)} MiB over {Cycles} cycles");
        Assert.Equal(start, Tensor.LiveCount);
        Assert.True(nativeAfter - nativeBefore < AllowedGrowthBytes,
            $"native memory grew by {MiB(nativeAfter - nativeBefore)} MiB over {Cycles} cycles");
    }

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void AnUndisposedTensorNobodyReferencesIsReleasedByTheFinalizer()
    {
        Assert.Null(DisposeScope.Current);
        var start = ProcessWideTensorCount.Settle();

        var abandoned = CreateAndAbandon(100, start);
        ProcessWideTensorCount.Settle();

        Assert.All(abandoned, w => Assert.False(w.IsAlive));
        Assert.Equal(start, Tensor.LiveCount);
    }

    /// <summary>Creates tensors, checks they are counted while referenced, and drops them undisposed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] CreateAndAbandon(int count, long start)
    {
        var tensors = Enumerable.Range(0, count).Select(_ => Tensor.Randn([16, 16])).ToList();
        Assert.Equal(start + count, Tensor.LiveCount);
        return tensors.Select(t => new WeakReference(t)).ToArray();
    }

    [Fact]
    public void DisposingTwiceReleasesOnceAndUseAfterDisposeThrows()
    {
        var start = ProcessWideTensorCount.Settle();
        var t = Tensor.Ones([3]);
        Assert.Equal(start + 1, Tensor.LiveCount);

        t.Dispose();
        t.Dispose();

        Assert.Equal(start, Tensor.LiveCount);
        Assert.True(t.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => t.Sum());
        Assert.Equal("Tensor(disposed)", t.ToString());
    }
}
