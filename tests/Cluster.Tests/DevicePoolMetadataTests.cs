using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>Device pools as silo metadata: what is written is read back, and every malformed key is named.</summary>
public sealed class DevicePoolMetadataTests
{
    [Fact]
    public void PoolsRoundTripThroughMetadata()
    {
        DevicePool[] pools =
        [
            new() { Class = "low-cost", Kind = "cuda", Devices = 8, MemoryGib = 24, DollarsPerHour = 0.35, RelativeThroughput = 0.8, ThreadsPerDevice = 2 },
            new() { Class = "high-memory", Devices = 1, MemoryGib = 80, DollarsPerHour = 2.28 },
        ];
        Assert.Equal(pools, DevicePoolMetadata.Parse(DevicePoolMetadata.Format(pools)));
    }

    [Fact]
    public void EveryMalformedKeyIsNamedWithWhatIsAllowed()
    {
        var e = Assert.Throws<SiloMetadataException>(() => DevicePoolMetadata.Parse(new Dictionary<string, string>
        {
            ["pool0_class"] = "low-cost", ["pool0_devices"] = "two", ["pool0_kind"] = "tpu", ["pool0_colour"] = "red",
            ["pool1_dollars_per_hour"] = "-1", ["pool1_relative_throughput"] = "0",
            ["pool3_class"] = "x", ["cores"] = "4",
        }));
        Assert.Contains("pool0_devices: 'two' is not valid; it must be a whole number of at least 1 (job slots)", e.Problems);
        Assert.Contains("pool0_kind: 'tpu' is not a device kind; use cpu or cuda", e.Problems);
        Assert.Contains(e.Problems, p => p.StartsWith("pool0_colour: not a pool field", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.StartsWith("pool1_class: missing", StringComparison.Ordinal));
        Assert.Contains("pool1_dollars_per_hour: '-1' is not valid; it must be 0 or more (dollars per device-hour)", e.Problems);
        Assert.Contains("pool1_relative_throughput: '0' is not valid; it must be positive (1 = the reference machine)", e.Problems);
        Assert.Contains(e.Problems, p => p.StartsWith("pool2_class: missing; pools are numbered from 0 without gaps", StringComparison.Ordinal));
        Assert.Equal(7, e.Problems.Count);
    }

    [Fact]
    public void AClassDeclaredTwiceIsRefused()
    {
        var e = Assert.Throws<SiloMetadataException>(() => DevicePoolMetadata.Parse(new Dictionary<string, string> { ["pool0_class"] = "a", ["pool1_class"] = "a" }));
        Assert.Equal(["pool*_class: class 'a' is declared by 2 pools; give each class one pool"], e.Problems);
    }
}
