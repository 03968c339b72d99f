namespace Orleans.MoE.Grains.Placement;

/// <summary>A live silo as `moe silos` shows it: its pools, their busy slots, and the jobs it runs.</summary>
[GenerateSerializer, Immutable]
[Alias("moe.SiloView")]
public sealed record SiloView
{
    [Id(0)] public required string Silo { get; init; }

    [Id(1)] public required string Name { get; init; }

    [Id(2)] public IReadOnlyList<DevicePool> Pools { get; init; } = [];

    /// <summary>Busy slots per pool, in <see cref="Pools"/> order.</summary>
    [Id(3)] public IReadOnlyList<int> Busy { get; init; } = [];

    /// <summary>The jobs holding its slots ("experiment/job#attempt").</summary>
    [Id(4)] public IReadOnlyList<string> Jobs { get; init; } = [];

    /// <summary>Why a silo that is a member offers no pools (unreadable metadata).</summary>
    [Id(5)] public string? Problem { get; init; }
}
