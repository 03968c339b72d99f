using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Bench;

/// <summary>
/// Times, in isolation, each thing the managed wrapper does around a small op, so that the
/// difference between the binding and the C++ reference can be attributed:
/// grad-mode sync (an AsyncLocal and a ThreadStatic read), the DisposeScope.Current read (an
/// AsyncLocal), allocating a finalizable wrapper and suppressing its finalizer, the Interlocked
/// live counter and handle exchange, and one P/Invoke round trip to a trivial export; then a whole
/// minimal tensor lifetime without and with a scope current (the scope's attach and forget take a
/// lock, the wrapper's identity hash and a HashSet insert and remove).
/// </summary>
internal static class OverheadBreakdown
{
    public sealed record Component(string Name, double NsPerOp, string PerOp);

    // Stand-ins with the wrapper's layout (two reference-sized fields), one with a finalizer.
    private sealed class FinalizableProbe
    {
        public IntPtr Handle;
        public object? Scope;
        ~FinalizableProbe() => Handle = IntPtr.Zero;
    }

    private sealed class PlainProbe
    {
        public IntPtr Handle;
        public object? Scope;
    }

    // Stores keep the JIT from stack-allocating the probes (escape analysis) or dropping reads.
    private static object? _sink;
    private static long _counter;
    private static IntPtr _handle = 1;
    private static IntPtr _slot;

    /// <param name="sample">A tensor to take cheap second handles of (it is not modified).</param>
    public static unsafe IReadOnlyList<Component> Measure(Tensor sample, BenchSettings s)
    {
        var iters = s.SmallIters * 10;
        var reps = s.SmallReps;
        var list = new List<Component>();

        list.Add(new("P/Invoke round trip (trivial export)", Harness.MedianNanoseconds(n =>
        {
            int enabled;
            for (var i = 0; i < n; i++) NativeMethods.moe_is_grad_enabled(&enabled);
        }, iters, reps), "x2 (op + free)"));

        list.Add(new("GradMode.Sync (AsyncLocal + ThreadStatic read)", Harness.MedianNanoseconds(n =>
        {
            for (var i = 0; i < n; i++) GradMode.Sync();
        }, iters, reps), "x1"));

        list.Add(new("DisposeScope.Current (AsyncLocal read), no scope", Harness.MedianNanoseconds(n =>
        {
            for (var i = 0; i < n; i++) _sink = DisposeScope.Current;
        }, iters, reps), "x1"));

        list.Add(new("DisposeScope.Current (AsyncLocal read), a scope current", Harness.MedianNanoseconds(n =>
        {
            using var scope = DisposeScope.Begin();
            for (var i = 0; i < n; i++) _sink = DisposeScope.Current;
        }, iters, reps), "x1"));

        list.Add(new("allocate finalizable wrapper + SuppressFinalize", Harness.MedianNanoseconds(n =>
        {
            for (var i = 0; i < n; i++)
            {
                var p = new FinalizableProbe { Handle = _handle, Scope = null };
                _sink = p;
                GC.SuppressFinalize(p);
            }
        }, iters, reps), "x1"));

        list.Add(new("  (same without a finalizer, for comparison)", Harness.MedianNanoseconds(n =>
        {
            for (var i = 0; i < n; i++) _sink = new PlainProbe { Handle = _handle, Scope = null };
        }, iters, reps), "-"));

        list.Add(new("Interlocked live counter +1/-1 and handle exchange", Harness.MedianNanoseconds(n =>
        {
            for (var i = 0; i < n; i++)
            {
                Interlocked.Increment(ref _counter);
                _slot = _handle;
                if (Interlocked.Exchange(ref _slot, IntPtr.Zero) != IntPtr.Zero) Interlocked.Decrement(ref _counter);
            }
        }, iters, reps), "x1"));

        // A whole minimal wrapper lifetime (moe_tensor_share + moe_tensor_free: two cheap exports),
        // without and with a scope current; the difference is the scope's attach + forget.
        var shareAlone = Harness.MedianNanoseconds(n =>
        {
            for (var i = 0; i < n; i++)
            {
                using var t = sample.Share();
            }
        }, iters / 4, reps);
        var shareInScope = Harness.MedianNanoseconds(n =>
        {
            using var scope = DisposeScope.Begin();
            for (var i = 0; i < n; i++)
            {
                using var t = sample.Share();
            }
        }, iters / 4, reps);
        list.Add(new("new tensor + Dispose (Share), no scope", shareAlone, "all of the above, cheapest export"));
        list.Add(new("  (same with a scope current: attach + forget = difference)", shareInScope,
            FormattableString.Invariant($"attach + forget = {shareInScope - shareAlone:F1}")));
        _sink = null;
        return list;
    }
}
