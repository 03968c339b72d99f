using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>The slot ledger on an in-process cluster: atomic reservations under concurrent requests, idempotence, release.</summary>
public sealed class SlotLedgerTests
{
    private static readonly DevicePool OneSlot = new() { Class = "low-cost", Devices = 1, DollarsPerHour = 0.35 };

    [Fact]
    public async Task ConcurrentRequestsNeverReserveMoreSlotsThanTheSilosHave()
    {
        await using var cluster = await GrainTestCluster.StartAsync([[OneSlot], [OneSlot with { Devices = 2 }], [OneSlot with { DollarsPerHour = 0.5 }]]);
        var ledger = cluster.Client.GetGrain<ISlotLedgerGrain>(0);
        await GrainTestCluster.EventuallyAsync(ledger.GetSilosAsync, s => s.Count == 3 && s.All(v => v.Pools.Count == 1), "three silos with their pools");

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            ledger.ReserveAsync(new SlotRequest { JobKey = $"e/job-{i}", Attempt = 1, DeviceClass = "low-cost" })));
        Assert.Equal(4, answers.Count(a => a.Granted));
        Assert.All(answers.Where(a => !a.Granted), a => Assert.Equal("waiting for a silo of class low-cost with 1 free device", a.Waiting));
        var silos = await ledger.GetSilosAsync();
        Assert.All(silos, s => Assert.Equal(s.Pools[0].Devices, s.Busy[0]));
        Assert.Equal(4, silos.Sum(s => s.Jobs.Count));

        // Asking again for a job and attempt that holds slots gives the same slots and takes no more.
        var granted = answers.Select((a, i) => (a, i)).First(x => x.a.Granted);
        var again = await ledger.ReserveAsync(new SlotRequest { JobKey = $"e/job-{granted.i}", Attempt = 1, DeviceClass = "low-cost" });
        Assert.Equal(granted.a.Slots.Single().Silo, again.Slots.Single().Silo);

        // A release frees exactly that slot. A newcomer does not jump the queue: the one waiter that
        // asked first gets it, whatever order the waiters ask again in; each waiter that asks before
        // it is told who asked first, each one after it that no slot is free. (The 40 requests above
        // arrived in whatever order the runtime delivered them, so which waiter is first is found here.)
        await ledger.ReleaseAsync($"e/job-{granted.i}");
        Assert.False((await ledger.ReserveAsync(new SlotRequest { JobKey = "e/late", Attempt = 1, DeviceClass = "low-cost" })).Granted);
        var waiting = answers.Select((a, i) => (a, i)).Where(x => !x.a.Granted).Select(x => x.i).Reverse().ToList();
        var retried = new List<(int Job, SlotReservation Answer)>();
        foreach (var i in waiting) retried.Add((i, await ledger.ReserveAsync(new SlotRequest { JobKey = $"e/job-{i}", Attempt = 1, DeviceClass = "low-cost" })));
        var winner = Assert.Single(retried, r => r.Answer.Granted);
        Assert.Equal(granted.a.Slots.Single().Silo, winner.Answer.Slots.Single().Silo);
        var at = retried.IndexOf(winner);
        Assert.All(retried.Take(at), r => Assert.Equal($"waiting for a silo of class low-cost: e/job-{winner.Job} asked first", r.Answer.Waiting));
        Assert.All(retried.Skip(at + 1), r => Assert.Equal("waiting for a silo of class low-cost with 1 free device", r.Answer.Waiting));
    }

    [Fact]
    public async Task ANewerAttemptReplacesTheSlotsOfAnOlderOne()
    {
        await using var cluster = await GrainTestCluster.StartAsync([[OneSlot]]);
        var ledger = cluster.Client.GetGrain<ISlotLedgerGrain>(0);
        await GrainTestCluster.EventuallyAsync(ledger.GetSilosAsync, s => s.Count == 1 && s[0].Pools.Count == 1, "the silo's pools");
        Assert.True((await ledger.ReserveAsync(new SlotRequest { JobKey = "e/j", Attempt = 1, DeviceClass = "low-cost" })).Granted);
        Assert.True((await ledger.ReserveAsync(new SlotRequest { JobKey = "e/j", Attempt = 2, DeviceClass = "low-cost" })).Granted);
        Assert.Equal(["e/j#2"], (await ledger.GetSilosAsync()).Single().Jobs);
        await ledger.ReleaseAsync("e/j", attempt: 1);   // a stale release does nothing
        Assert.Equal(1, (await ledger.GetSilosAsync()).Single().Busy[0]);
    }
}
