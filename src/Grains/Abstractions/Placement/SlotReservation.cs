namespace Orleans.MoE.Grains.Placement;

/// <summary>A request for job slots: one per rank, each on a different silo when there are several (unless they may share).</summary>
[GenerateSerializer, Immutable]
[Alias("moe.SlotRequest")]
public sealed record SlotRequest
{
    /// <summary>The job (or rank group) the slots are for; also the key the reservation is released by.</summary>
    [Id(0)] public required string JobKey { get; init; }

    [Id(1)] public required int Attempt { get; init; }

    [Id(2)] public required string DeviceClass { get; init; }

    /// <summary>Slots wanted, all or none (a gang), each on a distinct silo unless <see cref="SharedSilos"/>.</summary>
    [Id(3)] public int Ranks { get; init; } = 1;

    /// <summary>The grain to tell when a reserved silo leaves the cluster (its grain id as text).</summary>
    [Id(4)] public string? Owner { get; init; }

    /// <summary>W3C traceparent of the attempt the slot is for: the placement decision's span sits under it.</summary>
    [Id(5)] public string? TraceParent { get; init; }

    /// <summary>The experiment directory (relative to the artifact store) whose span files take that span.</summary>
    [Id(6)] public string? TraceDirectory { get; init; }

    /// <summary>The ranks may share a silo (data shards); otherwise each takes a distinct one (the ranks of a fine-tune).</summary>
    [Id(7)] public bool SharedSilos { get; init; }
}

/// <summary>One reserved slot: the silo, the pool, and the threads a job there gets.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.SlotGrant")]
public sealed record SlotGrant
{
    /// <summary>The silo's address (its supervisor's key).</summary>
    [Id(0)] public required string Silo { get; init; }

    [Id(1)] public required string SiloName { get; init; }

    [Id(2)] public required DevicePool Pool { get; init; }

    [Id(3)] public int Threads { get; init; }

    /// <summary>The silo's host address, for a rendezvous served by a job there.</summary>
    [Id(4)] public string Host { get; init; } = "";
}

/// <summary>The answer to a <see cref="SlotRequest"/>: every slot, or none and why.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.SlotReservation")]
public sealed record SlotReservation
{
    [Id(0)] public IReadOnlyList<SlotGrant> Slots { get; init; } = [];

    /// <summary>Why nothing was reserved ("waiting for a silo of class high-memory with 1 free device").</summary>
    [Id(1)] public string? Waiting { get; init; }

    public bool Granted => Slots.Count > 0;
}
