using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.MoE.Grains.Placement;
using Orleans.Runtime.Placement;

namespace Orleans.MoE.Grains;

public static class MoeGrainsHosting
{
    /// <summary>What the grains need from their silo beyond storage: the placement that pins a supervisor to its silo.</summary>
    public static ISiloBuilder AddMoeGrains(this ISiloBuilder silo)
    {
        silo.Services.AddPlacementDirector<SiloPinnedPlacement, SiloPinnedPlacementDirector>();
        return silo;
    }
}
