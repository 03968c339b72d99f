namespace Orleans.MoE.Torch;

/// <summary>A device was asked for that the loaded libtorch cannot use; the message says why and what to do.</summary>
public sealed class DeviceUnavailableException(Device device, string message) : Exception(message)
{
    /// <summary>The device that was asked for.</summary>
    public Device Device { get; } = device;
}
