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
