using System.Runtime.InteropServices;
using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch.Distributed;

/// <summary>
/// Counts the bytes the collectives given this counter moved, as seen from this rank, including the
/// backward all-to-alls that autograd runs later. One counter per (layer, collective) gives the
/// communication accounting its rows.
/// </summary>
public sealed class TrafficCounter : IDisposable
{
    private readonly CounterHandle _handle;

    public unsafe TrafficCounter()
    {
        IntPtr h;
        TorchException.Check(NativeMethods.moe_traffic_counter_new(&h));
        _handle = new CounterHandle(h);
    }

    internal IntPtr Handle => _handle.DangerousGetHandle();

    /// <summary>The totals so far.</summary>
    public TrafficTotals Read() => ReadCore(reset: false);

    /// <summary>The totals so far, and starts again from zero.</summary>
    public TrafficTotals ReadAndReset() => ReadCore(reset: true);

    private unsafe TrafficTotals ReadCore(bool reset)
    {
        var values = stackalloc long[6];
        TorchException.Check(NativeMethods.moe_traffic_counter_read(Handle, values, reset ? 1 : 0));
        return new TrafficTotals(values[0], values[1], values[2], values[3], values[4], values[5]);
    }

    public void Dispose() => _handle.Dispose();

    private sealed class CounterHandle : SafeHandle
    {
        public CounterHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle() => NativeMethods.moe_traffic_counter_free(handle) == 0;
    }
}

/// <summary>
/// Calls (forward and backward), bytes this rank sent and received (its own block included), the
/// part of them that crossed to or from another rank, and how many of the calls were backward passes.
/// </summary>
public readonly record struct TrafficTotals(long Calls, long BytesSent, long BytesReceived,
    long RemoteBytesSent, long RemoteBytesReceived, long BackwardCalls)
{
    public static TrafficTotals operator +(TrafficTotals a, TrafficTotals b) => new(
        a.Calls + b.Calls, a.BytesSent + b.BytesSent, a.BytesReceived + b.BytesReceived,
        a.RemoteBytesSent + b.RemoteBytesSent, a.RemoteBytesReceived + b.RemoteBytesReceived, a.BackwardCalls + b.BackwardCalls);
}
