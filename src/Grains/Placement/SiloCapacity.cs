namespace Orleans.MoE.Grains.Placement;

/// <summary>A live silo as the ledger sees it: its pools, the slots taken in each, and its cores.</summary>
public sealed record SiloCapacity(string Silo, string Name, string Host, IReadOnlyList<DevicePool> Pools, IReadOnlyList<int> Busy, int Cores)
{
    /// <summary>The libtorch threads a job in pool i gets: the pool's own setting, or the cores divided among all the silo's slots.</summary>
    public int ThreadsFor(int pool) =>
        Pools[pool].ThreadsPerDevice > 0 ? Pools[pool].ThreadsPerDevice : Math.Max(1, Cores / Math.Max(1, Pools.Sum(p => p.Devices)));
}

/// <summary>
/// The placement rule, as a pure function: among the silos whose pool of the requested class has a
/// free slot, the cheapest per unit of throughput wins, ties broken by silo name and then address,
/// so the same cluster always gives the same answer. A gang of R ranks takes the R best distinct silos,
/// or, when its ranks may share silos, the R best free slots.
/// </summary>
public static class SlotChoice
{
    public static SlotReservation Choose(SlotRequest request, IReadOnlyList<SiloCapacity> silos)
    {
        var candidates = silos
            .Select(s => (Silo: s, Pool: IndexOf(s, request.DeviceClass)))
            .Where(c => c.Pool >= 0 && c.Silo.Busy[c.Pool] < c.Silo.Pools[c.Pool].Devices)
            .OrderBy(c => c.Silo.Pools[c.Pool].DollarsPerThroughput)
            .ThenBy(c => c.Silo.Name, StringComparer.Ordinal)
            .ThenBy(c => c.Silo.Silo, StringComparer.Ordinal)
            // Ranks that may share a silo take each of its free slots, the best silo's first.
            .SelectMany(c => Enumerable.Repeat(c, request.SharedSilos ? c.Silo.Pools[c.Pool].Devices - c.Silo.Busy[c.Pool] : 1))
            .Take(request.Ranks)
            .ToList();
        if (candidates.Count < request.Ranks)
            return new SlotReservation { Waiting = WaitingMessage(request, silos, candidates.Count) };
        return new SlotReservation
        {
            Slots = candidates.Select(c => new SlotGrant
            {
                Silo = c.Silo.Silo, SiloName = c.Silo.Name, Host = c.Silo.Host, Pool = c.Silo.Pools[c.Pool], Threads = c.Silo.ThreadsFor(c.Pool),
            }).ToList(),
        };
    }

    public static int IndexOf(SiloCapacity silo, string deviceClass)
    {
        for (var i = 0; i < silo.Pools.Count; i++)
            if (silo.Pools[i].Class == deviceClass) return i;
        return -1;
    }

    private static string WaitingMessage(SlotRequest request, IReadOnlyList<SiloCapacity> silos, int free)
    {
        var ofClass = silos.Count(s => IndexOf(s, request.DeviceClass) >= 0);
        var wanted = request.Ranks == 1
            ? $"waiting for a silo of class {request.DeviceClass} with 1 free device"
            : request.SharedSilos
                ? $"waiting for {request.Ranks} free devices of class {request.DeviceClass} ({free} now)"
                : $"waiting for {request.Ranks} distinct silos of class {request.DeviceClass} with a free device each ({free} now)";
        return ofClass == 0 ? $"{wanted} (no live silo declares that class)" : wanted;
    }
}
