namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// A device class's rental price and its speed relative to the machine the times were measured on
/// (a factor 2 means the class does the same work in half the measured time).
/// </summary>
public sealed record DeviceClass(string Name, double DollarsPerHour, double RelativeThroughput = 1.0)
{
    /// <summary>Hours on this class for work measured at <paramref name="measuredSeconds"/> here.</summary>
    public double Hours(double measuredSeconds) => measuredSeconds / 3600.0 / RelativeThroughput;
}

/// <summary>Prices per device class. The defaults are the paper's: RTX 4090 $0.35/h, A100 80GB $2.28/h.</summary>
public sealed record DevicePriceTable(DeviceClass LowCost, DeviceClass HighMemory)
{
    public static DevicePriceTable Paper { get; } = new(new DeviceClass("low-cost", 0.35), new DeviceClass("high-memory", 2.28));
}
