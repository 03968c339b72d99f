namespace Orleans.MoE.Grains.Experiments;

/// <summary>The experiments submitted to this cluster (key 0), for `moe status` without an id.</summary>
public interface IExperimentRegistryGrain : IGrainWithIntegerKey
{
    Task RegisterAsync(string experimentId);

    Task<IReadOnlyList<string>> ListAsync();
}
