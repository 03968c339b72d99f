using System.Runtime.InteropServices;
using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

/// <summary>
/// A seeded random-number generator (libtorch's CPU Philox/MT generator). Sampling draws on the CPU
/// and moves the result, so one seed gives the same numbers on every device. Its whole state can
/// be saved and restored, which checkpoints use for exact resume.
/// </summary>
public sealed class Generator : SafeHandle
{
    public unsafe Generator(ulong seed) : base(IntPtr.Zero, ownsHandle: true)
    {
        IntPtr h;
        TorchException.Check(NativeMethods.moe_generator_new(seed, &h));
        SetHandle(h);
        Seed = seed;
    }

    public ulong Seed { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The generator's full state as bytes.</summary>
    public unsafe byte[] GetState()
    {
        IntPtr r;
        TorchException.Check(NativeMethods.moe_generator_get_state(DangerousGetHandle(), &r));
        GC.KeepAlive(this);
        using var state = new Tensor(r).DetachFromScope();
        return state.ToArray<byte>();
    }

    public void SetState(byte[] state)
    {
        using var t = Tensor.FromArray(state).DetachFromScope();
        TorchException.Check(NativeMethods.moe_generator_set_state(DangerousGetHandle(), t.Handle));
        GC.KeepAlive(this);
    }

    protected override bool ReleaseHandle() => NativeMethods.moe_generator_free(handle) == 0;
}
