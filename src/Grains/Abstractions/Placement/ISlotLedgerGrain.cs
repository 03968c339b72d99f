using Orleans.Concurrency;

namespace Orleans.MoE.Grains.Placement;

/// <summary>
/// The cluster's one record of who holds which job slot (key 0). Placement decisions are made here,
/// one at a time, because they must reserve: among the live silos whose declared pools have the
/// requested class and a free slot, the cheapest per unit of throughput wins (ties by silo name,
/// then address), and the slot is held until the job releases it or its silo leaves the cluster.
/// </summary>
public interface ISlotLedgerGrain : IGrainWithIntegerKey
{
    /// <summary>Reserves the slots, all or none. Asking again for the same job and attempt returns the same slots.</summary>
    Task<SlotReservation> ReserveAsync(SlotRequest request);

    /// <summary>Frees the slots of a job's attempt (any attempt when null).</summary>
    Task ReleaseAsync(string jobKey, int? attempt = null);

    /// <summary>Every live silo with its pools and their use.</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<SiloView>> GetSilosAsync();

    /// <summary>Drops the slots of silos that left the cluster and tells their owners.</summary>
    Task ReconcileAsync();

    /// <summary>The silo (by key) is shutting down: nothing more is placed on it, so that the jobs it stops are placed elsewhere.</summary>
    Task DrainAsync(string silo);
}
