using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

/// <summary>
/// Automatic mixed precision, as torch.autocast: inside the scope, matrix products and the other
/// operations libtorch lists for autocast run in a lower precision (bfloat16) on the scope's device
/// type, while parameters, gradients and the optimizer stay float32. libtorch keeps the setting per
/// thread: open and dispose the scope on the thread that runs the forward pass (the backward pass
/// follows the dtypes the forward recorded and needs no scope).
/// </summary>
public static class Autocast
{
    /// <summary>Enables autocast for <paramref name="device"/>'s type until the returned scope is disposed.</summary>
    public static IDisposable Enable(Device device, ScalarType dtype = ScalarType.BFloat16)
    {
        TorchException.Check(NativeMethods.moe_autocast(1, (int)device.Type, (int)dtype));
        return new Scope(device);
    }

    private sealed class Scope(Device device) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            // Also drops the weights cast for this region: the next one casts the updated weights.
            TorchException.Check(NativeMethods.moe_autocast(0, (int)device.Type, 0));
        }
    }
}
