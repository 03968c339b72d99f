namespace Orleans.MoE.Grains.Placement;

/// <summary>
/// A pool of identical devices that a silo declares in its metadata: its class (what phases ask
/// for: low-cost, high-memory, or any name), kind (cpu, cuda), how many jobs it runs at once (one
/// per device), memory per device, price, and speed relative to the reference machine.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("moe.DevicePool")]
public sealed record DevicePool
{
    [Id(0)] public required string Class { get; init; }

    [Id(1)] public string Kind { get; init; } = "cpu";

    /// <summary>Job slots: one job per device.</summary>
    [Id(2)] public int Devices { get; init; } = 1;

    [Id(3)] public double MemoryGib { get; init; }

    [Id(4)] public double DollarsPerHour { get; init; }

    [Id(5)] public double RelativeThroughput { get; init; } = 1;

    /// <summary>libtorch threads a job of this pool gets (cpu pools); 0 = the silo's cores divided among all its slots.</summary>
    [Id(6)] public int ThreadsPerDevice { get; init; }

    /// <summary>Dollars per unit of work: the placement's order (cheapest first).</summary>
    public double DollarsPerThroughput => DollarsPerHour / RelativeThroughput;
}
