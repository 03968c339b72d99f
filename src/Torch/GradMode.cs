using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

/// <summary>
/// Whether operations record autograd history. libtorch keeps this per thread; here it follows the
/// async flow instead, so a <see cref="NoGrad"/> scope stays in force across <c>await</c> and does
/// not leak into unrelated work that later runs on the same thread. Before each operation the
/// binding brings the thread's libtorch flag in line with the flow's (one comparison when they agree).
/// </summary>
public static class GradMode
{
    private static readonly AsyncLocal<int> DisabledDepth = new();

    [ThreadStatic] private static bool _threadDisabled;

    public static bool IsEnabled => DisabledDepth.Value == 0;

    /// <summary>Disables gradient recording until the returned scope is disposed.</summary>
    public static IDisposable NoGrad()
    {
        DisabledDepth.Value++;
        return new Restore();
    }

    /// <summary>Applies the flow's grad mode to this thread's libtorch state.</summary>
    internal static void Sync()
    {
        var disabled = DisabledDepth.Value != 0;
        if (disabled == _threadDisabled) return;
        TorchException.Check(NativeMethods.moe_set_grad_enabled(disabled ? 0 : 1));
        _threadDisabled = disabled;
    }

    private sealed class Restore : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) DisabledDepth.Value--;
        }
    }
}
