using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Silo.Web;

/// <summary>
/// What the web view's page shows, read from the grains `moe status` and `moe silos` read:
/// the experiment registry, each experiment's coordinator, and the slot ledger.
/// </summary>
public static class ClusterOverview
{
    public sealed record ExperimentRow(string Id, string Name, string Phase, string Message, double Dollars, string? Report, IReadOnlyList<JobView> Jobs);

    public sealed record PoolRow(string Class, string Kind, int Devices, double MemoryGib, double DollarsPerHour, int Busy, int Free);

    public sealed record SiloRow(string Name, string Address, string? Problem, IReadOnlyList<PoolRow> Pools, IReadOnlyList<string> Jobs);

    public static async Task<IReadOnlyList<ExperimentRow>> ExperimentsAsync(IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IExperimentRegistryGrain>(0).ListAsync();
        var rows = new List<ExperimentRow>(ids.Count);
        foreach (var id in ids)
        {
            var s = await grains.GetGrain<IExperimentCoordinatorGrain>(id).GetStatusAsync();
            rows.Add(new ExperimentRow(s.ExperimentId, s.Name, s.Phase.ToString(), s.Message, s.Dollars, s.Report, s.Jobs));
        }
        return rows;
    }

    public static async Task<IReadOnlyList<SiloRow>> SilosAsync(IGrainFactory grains)
    {
        var silos = await grains.GetGrain<ISlotLedgerGrain>(0).GetSilosAsync();
        return silos.Select(s => new SiloRow(s.Name, s.Silo, s.Problem,
            s.Pools.Select((p, i) => new PoolRow(p.Class, p.Kind.ToString(), p.Devices, p.MemoryGib, p.DollarsPerHour, s.Busy[i], p.Devices - s.Busy[i])).ToList(),
            s.Jobs)).ToList();
    }
}
