using System.Text.Json.Serialization;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// A device class's rental price and its speed relative to the machine the times were measured on
/// (a factor 2 means the class does the same work in half the measured time).
/// </summary>
public sealed record DeviceClass
{
    public DeviceClass()
    {
    }

    public DeviceClass(string name, double dollarsPerHour, double relativeThroughput = 1.0)
    {
        Name = name;
        DollarsPerHour = dollarsPerHour;
        RelativeThroughput = relativeThroughput;
    }

    /// <summary>The class's label in the report; fixed by its place in the table, not read from files.</summary>
    [JsonIgnore]
    public string Name { get; init; } = "";

    public double DollarsPerHour { get; init; }

    public double RelativeThroughput { get; init; } = 1.0;

    /// <summary>Hours on this class for work measured at <paramref name="measuredSeconds"/> here.</summary>
    public double Hours(double measuredSeconds) => measuredSeconds / 3600.0 / RelativeThroughput;
}

/// <summary>
/// Prices per device class. The defaults are the paper's: RTX 4090 $0.35/h, A100 80GB $2.28/h. A class
/// given in a file keeps the defaults of the fields it leaves out (populated, not replaced).
/// </summary>
public sealed record DevicePriceTable
{
    public DevicePriceTable()
    {
    }

    public DevicePriceTable(DeviceClass lowCost, DeviceClass highMemory)
    {
        LowCost = lowCost;
        HighMemory = highMemory;
    }

    /// <summary>The submodels' devices.</summary>
    [JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
    public DeviceClass LowCost { get; init; } = new("low-cost", 0.35);

    /// <summary>The fine-tune's and baseline's devices.</summary>
    [JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
    public DeviceClass HighMemory { get; init; } = new("high-memory", 2.28);

    public static DevicePriceTable Paper { get; } = new();
}
