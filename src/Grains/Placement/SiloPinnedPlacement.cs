using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Orleans.MoE.Grains.Placement;

/// <summary>Places a grain on the silo whose address is its key (a silo's own supervisor face).</summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
[Alias("moe.SiloPinnedPlacement")]
public sealed class SiloPinnedPlacement : PlacementStrategy
{
    internal static SiloPinnedPlacement Instance { get; } = new();

    /// <summary>The key that pins a grain to a silo.</summary>
    public static string KeyOf(SiloAddress silo) => silo.ToParsableString();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(SiloPinnedPlacement.Instance);

/// <summary>
/// Activates the grain on the silo its key names, and nowhere else: when that silo has left the
/// cluster the call fails, which is what the caller (a job owner) must learn.
/// </summary>
internal sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString()!;
        var silo = SiloAddress.FromParsableString(key);
        if (!context.GetCompatibleSilos(target).Contains(silo))
            throw new OrleansException($"silo {key} is not an active member of the cluster; a grain pinned to it cannot be activated");
        return Task.FromResult(silo);
    }
}
