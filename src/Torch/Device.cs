using Orleans.MoE.Torch.Native;

namespace Orleans.MoE.Torch;

public enum DeviceType { Cpu = 0, Cuda = 1 }

/// <summary>Where a tensor lives. CUDA devices exist only when the loaded libtorch was built with CUDA.</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    public static Device Cpu => new(DeviceType.Cpu);

    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>The best device this process can use: the first GPU if libtorch has CUDA and sees one, else the CPU.</summary>
    public static Device Best => TorchRuntime.CudaAvailable ? Cuda() : Cpu;

    /// <summary>
    /// Checks that the loaded libtorch can place tensors here, so that a run asking for a GPU fails at
    /// its start with the reason instead of inside its first operation: a native library built
    /// against a CPU libtorch, a CUDA build that sees no GPU, or an index past the GPUs it sees.
    /// </summary>
    /// <exception cref="DeviceUnavailableException">the device cannot be used in this process</exception>
    public Device EnsureAvailable()
    {
        if (Type == DeviceType.Cpu) return this;
        if (!TorchRuntime.CudaBuilt)
            throw new DeviceUnavailableException(this,
                $"device {this} is not available: the loaded native library was built against libtorch {TorchRuntime.Version} without CUDA; " +
                "build native/ against a CUDA libtorch (README: Building against another libtorch (CUDA)) or use --device cpu");
        var count = TorchRuntime.CudaDeviceCount;
        if (count == 0)
            throw new DeviceUnavailableException(this,
                $"device {this} is not available: libtorch {TorchRuntime.Version} has CUDA but sees no GPU " +
                "(check the driver with nvidia-smi and CUDA_VISIBLE_DEVICES), or use --device cpu");
        if (Index >= count)
            throw new DeviceUnavailableException(this,
                $"device {this} is not available: libtorch sees {count} GPU{(count == 1 ? "" : "s")} (cuda:0 to cuda:{count - 1}); " +
                "choose one of them, or check CUDA_VISIBLE_DEVICES");
        return this;
    }

    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";

    /// <summary>Parses "cpu", "cuda" or "cuda:N".</summary>
    public static Device Parse(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda") return Cuda();
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t[5..], out var index) && index >= 0)
            return Cuda(index);
        throw new FormatException($"'{text}' is not a device: use cpu, cuda or cuda:N");
    }
}
