using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>The placement rule: class filter, cheapest per unit of throughput, deterministic ties, free slots, gangs.</summary>
public sealed class PlacementTests
{
    private static DevicePool Pool(string deviceClass, double price, double throughput = 1, int devices = 1) =>
        new() { Class = deviceClass, DollarsPerHour = price, RelativeThroughput = throughput, Devices = devices };

    private static SiloCapacity Silo(string name, params DevicePool[] pools) =>
        new($"S{name}", name, "127.0.0.1", pools, pools.Select(_ => 0).ToList(), Cores: 8);

    private static SlotRequest Request(string deviceClass, int ranks = 1) => new() { JobKey = "e/j", Attempt = 1, DeviceClass = deviceClass, Ranks = ranks };

    [Fact]
    public void OnlySilosOfTheRequestedClassAreEligible()
    {
        var silos = new[] { Silo("a", Pool("high-memory", 0.10)), Silo("b", Pool("low-cost", 0.35)) };
        Assert.Equal("b", SlotChoice.Choose(Request("low-cost"), silos).Slots.Single().SiloName);
        var none = SlotChoice.Choose(Request("gpu-xl"), silos);
        Assert.False(none.Granted);
        Assert.Equal("waiting for a silo of class gpu-xl with 1 free device (no live silo declares that class)", none.Waiting);
    }

    [Fact]
    public void TheCheapestPerUnitOfThroughputWinsNotTheCheapestPerHour()
    {
        // $0.50/h at twice the speed costs $0.25 per unit of work, less than $0.35 at 1x.
        var silos = new[] { Silo("slow", Pool("low-cost", 0.35)), Silo("fast", Pool("low-cost", 0.50, throughput: 2)) };
        var slot = SlotChoice.Choose(Request("low-cost"), silos).Slots.Single();
        Assert.Equal("fast", slot.SiloName);
        Assert.Equal(0.50, slot.Pool.DollarsPerHour);
    }

    [Fact]
    public void TiesAreBrokenByNameThenAddressWhateverTheOrderSilosAreListedIn()
    {
        var silos = new List<SiloCapacity> { Silo("c", Pool("low-cost", 0.35)), Silo("a", Pool("low-cost", 0.35)), Silo("b", Pool("low-cost", 0.35)) };
        for (var shuffle = 0; shuffle < 3; shuffle++)
        {
            Assert.Equal("a", SlotChoice.Choose(Request("low-cost"), silos).Slots.Single().SiloName);
            silos.Add(silos[0]);
            silos.RemoveAt(0);
        }
        var twins = new[] { new SiloCapacity("S2", "same", "h", [Pool("low-cost", 1)], [0], 4), new SiloCapacity("S1", "same", "h", [Pool("low-cost", 1)], [0], 4) };
        Assert.Equal("S1", SlotChoice.Choose(Request("low-cost"), twins).Slots.Single().Silo);
    }

    [Fact]
    public void ABusyPoolIsSkippedAndAFullClassWaits()
    {
        var cheapButFull = new SiloCapacity("S1", "cheap", "h", [Pool("low-cost", 0.10, devices: 2)], [2], 8);
        var dear = new SiloCapacity("S2", "dear", "h", [Pool("low-cost", 0.90)], [0], 8);
        Assert.Equal("dear", SlotChoice.Choose(Request("low-cost"), [cheapButFull, dear]).Slots.Single().SiloName);
        var full = SlotChoice.Choose(Request("low-cost"), [cheapButFull, dear with { Busy = [1] }]);
        Assert.Equal("waiting for a silo of class low-cost with 1 free device", full.Waiting);
    }

    [Fact]
    public void AGangTakesDistinctSilosOrNothing()
    {
        var silos = new[] { Silo("a", Pool("high-memory", 2.0, devices: 4)), Silo("b", Pool("high-memory", 2.5)), Silo("c", Pool("high-memory", 3.0)) };
        Assert.Equal(["a", "b"], SlotChoice.Choose(Request("high-memory", ranks: 2), silos).Slots.Select(s => s.SiloName).ToList());
        var four = SlotChoice.Choose(Request("high-memory", ranks: 4), silos);
        Assert.False(four.Granted);
        Assert.Equal("waiting for 4 distinct silos of class high-memory with a free device each (3 now)", four.Waiting);
    }

    [Fact]
    public void DataShardsThatMayShareSilosTakeTheCheapestFreeSlotsFirst()
    {
        // a: 3 devices, one busy; b dearer. Four shards: a's two free slots, then b's.
        var a = new SiloCapacity("Sa", "a", "h", [Pool("low-cost", 0.30, devices: 3)], [1], 8);
        var b = Silo("b", Pool("low-cost", 0.40, devices: 2));
        var shards = new SlotRequest { JobKey = "e/cluster", Attempt = 1, DeviceClass = "low-cost", Ranks = 4, SharedSilos = true };
        Assert.Equal(["a", "a", "b", "b"], SlotChoice.Choose(shards, [b, a]).Slots.Select(s => s.SiloName).ToList());
        var five = SlotChoice.Choose(shards with { Ranks = 5 }, [b, a]);
        Assert.False(five.Granted);
        Assert.Equal("waiting for 5 free devices of class low-cost (4 now)", five.Waiting);
        // The same request without sharing takes one slot per silo, so it cannot be placed.
        Assert.False(SlotChoice.Choose(shards with { SharedSilos = false }, [b, a]).Granted);
    }

    [Fact]
    public void AJobGetsItsPoolsThreadsOrItsShareOfTheSilosCores()
    {
        var silo = new SiloCapacity("S", "s", "h", [Pool("low-cost", 1, devices: 3), Pool("high-memory", 2) with { ThreadsPerDevice = 5 }], [0, 0], Cores: 16);
        Assert.Equal(4, silo.ThreadsFor(0));   // 16 cores over 4 slots
        Assert.Equal(5, silo.ThreadsFor(1));
        Assert.Equal(1, (silo with { Cores = 2 }).ThreadsFor(0));
    }
}
