using System.Runtime.InteropServices;
using System.Text;
using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch.Distributed;

/// <summary>
/// c10d's TCPStore: the key-value store the ranks of a group rendezvous through. Rank 0 serves it;
/// every rank (rank 0 included) is a client. Construction waits until all world-size members joined.
/// </summary>
public sealed class TcpStore : IDisposable
{
    private readonly StoreHandle _handle;

    public unsafe TcpStore(RendezvousAddress address, int worldSize, bool isMaster, TimeSpan timeout)
    {
        IntPtr h;
        fixed (byte* host = Utf8Z(address.Host))
            TorchException.Check(NativeMethods.moe_tcp_store_new(host, address.Port, worldSize, isMaster ? 1 : 0, Millis(timeout), &h));
        _handle = new StoreHandle(h);
        Address = address;
    }

    public RendezvousAddress Address { get; }

    internal IntPtr Handle => _handle.DangerousGetHandle();

    public unsafe void Set(string key, ReadOnlySpan<byte> value)
    {
        fixed (byte* k = Utf8Z(key))
        fixed (byte* v = value)
            TorchException.Check(NativeMethods.moe_store_set(Handle, k, v, value.Length));
    }

    public void Set(string key, string value) => Set(key, Encoding.UTF8.GetBytes(value));

    /// <summary>Waits up to <paramref name="timeout"/> for the key to be set, then returns its value.</summary>
    public unsafe byte[] Get(string key, TimeSpan timeout)
    {
        var keyBytes = Utf8Z(key);
        long length;
        fixed (byte* k = keyBytes)
            TorchException.Check(NativeMethods.moe_store_get(Handle, k, Millis(timeout), null, 0, &length));
        var value = new byte[length];
        fixed (byte* k = keyBytes)
        fixed (byte* v = value)
            TorchException.Check(NativeMethods.moe_store_get(Handle, k, Millis(timeout), v, value.Length, &length));
        return value;
    }

    public string GetString(string key, TimeSpan timeout) => Encoding.UTF8.GetString(Get(key, timeout));

    /// <summary>Adds <paramref name="delta"/> to the integer under the key (0 when absent) and returns the sum.</summary>
    public unsafe long Add(string key, long delta)
    {
        long value;
        fixed (byte* k = Utf8Z(key)) TorchException.Check(NativeMethods.moe_store_add(Handle, k, delta, &value));
        return value;
    }

    public unsafe bool Contains(string key)
    {
        int present;
        fixed (byte* k = Utf8Z(key)) TorchException.Check(NativeMethods.moe_store_check(Handle, k, &present));
        return present != 0;
    }

    public void Dispose() => _handle.Dispose();

    internal static byte[] Utf8Z(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    internal static long Millis(TimeSpan timeout) =>
        timeout > TimeSpan.Zero ? (long)Math.Ceiling(timeout.TotalMilliseconds)
            : throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "a timeout must be positive");

    private sealed class StoreHandle : SafeHandle
    {
        public StoreHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle() => NativeMethods.moe_store_free(handle) == 0;
    }
}
