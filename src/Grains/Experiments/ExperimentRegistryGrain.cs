namespace Orleans.MoE.Grains.Experiments;

/// <summary>The list of the cluster's experiments, in the order they were submitted.</summary>
internal sealed class ExperimentRegistryGrain(
    [PersistentState("experiments", StorageNames.Cluster)] IPersistentState<List<string>> state) : Grain, IExperimentRegistryGrain
{
    public async Task RegisterAsync(string experimentId)
    {
        if (state.State.Contains(experimentId)) return;
        state.State.Add(experimentId);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.ToList());
}
