using Microsoft.Extensions.Logging;

namespace Orleans.MoE.Grains.Experiments;

/// <summary>The list of the cluster's experiments, in the order they were submitted.</summary>
internal sealed class ExperimentRegistryGrain(
    [PersistentState("experiments", StorageNames.Cluster)] IPersistentState<List<string>> state,
    ILogger<ExperimentRegistryGrain> logger) : Grain, IExperimentRegistryGrain
{
    public async Task RegisterAsync(string experimentId)
    {
        if (!state.State.Contains(experimentId)) state.State.Add(experimentId);
        // Written also when it was listed: a coordinator registers again after the storage lost its data.
        await state.WriteRetryingAsync(logger, "the experiment registry");
    }

    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.ToList());
}
