namespace Orleans.MoE.Grains.Placement;

/// <summary>The ledger's persisted reservations, by job key.</summary>
[GenerateSerializer]
[Alias("moe.SlotLedgerState")]
public sealed class SlotLedgerState
{
    [Id(0)] public Dictionary<string, LedgerEntry> Reservations { get; set; } = [];
}

/// <summary>The slots one attempt of a job holds, and the grain to tell if their silo goes.</summary>
[GenerateSerializer]
[Alias("moe.LedgerEntry")]
public sealed class LedgerEntry
{
    [Id(0)] public int Attempt { get; set; }

    [Id(1)] public List<LedgerSlot> Slots { get; set; } = [];

    /// <summary>The owning grain's id (<see cref="Orleans.Runtime.GrainId"/> as text).</summary>
    [Id(2)] public string? Owner { get; set; }
}

[GenerateSerializer]
[Alias("moe.LedgerSlot")]
public sealed class LedgerSlot
{
    [Id(0)] public string Silo { get; set; } = "";

    [Id(1)] public string Class { get; set; } = "";

    [Id(2)] public SlotGrant? Grant { get; set; }
}
