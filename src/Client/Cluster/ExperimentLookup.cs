using Orleans.MoE.Grains.Experiments;

namespace Orleans.MoE.Client.Cluster;

internal static class ExperimentLookup
{
    /// <summary>The experiment's status; an id the cluster has never seen is bad input.</summary>
    public static async Task<ExperimentStatus> RequireAsync(IExperimentCoordinatorGrain coordinator, string id)
    {
        var status = await coordinator.GetStatusAsync();
        if (status.Directory.Length == 0) throw new ArgumentException($"no experiment '{id}' on this cluster (moe status lists them)");
        return status;
    }
}
