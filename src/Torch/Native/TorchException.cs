using System.Text;

namespace Orleans.MoE.Torch.Native;

/// <summary>An error raised inside libtorch or the native layer, carrying libtorch's own message.</summary>
public sealed class TorchException : Exception
{
    public TorchException(int status, string message) : base(message) => Status = status;

    /// <summary>The native status: 1 libtorch error, 2 rejected argument, 3 other C++ exception, 4 unknown.</summary>
    public int Status { get; }

    /// <summary>Throws if a native call failed. Must run on the thread that made the call.</summary>
    internal static void Check(int status)
    {
        if (status != 0) throw FromLastError(status);
    }

    /// <summary>The exception for a failed native call, without throwing it. Must run on the calling thread.</summary>
    internal static unsafe TorchException FromLastError(int status)
    {
        long length;
        Span<byte> small = stackalloc byte[1024];
        fixed (byte* p = small) NativeMethods.moe_last_error(p, small.Length, &length);
        string message;
        if (length <= small.Length)
        {
            message = Encoding.UTF8.GetString(small[..(int)length]);
        }
        else
        {
            var large = new byte[length];
            fixed (byte* p = large) NativeMethods.moe_last_error(p, large.Length, &length);
            message = Encoding.UTF8.GetString(large);
        }
        return new TorchException(status, message.TrimEnd());
    }
}
