using Microsoft.Extensions.Logging;

namespace Orleans.MoE.Grains.Jobs;

// One grain type per kind of job, so that each is its own identity in the cluster (and in its
// traces and logs); what they do with their job is the same and lives in JobGrain.

internal sealed class PhaseJobGrain([PersistentState("job", StorageNames.Cluster)] IPersistentState<JobState> state, ILogger<PhaseJobGrain> logger)
    : JobGrain(state, logger), IPhaseJobGrain;

internal sealed class ExpertSubmodelGrain([PersistentState("job", StorageNames.Cluster)] IPersistentState<JobState> state, ILogger<ExpertSubmodelGrain> logger)
    : JobGrain(state, logger), IExpertSubmodelGrain;

internal sealed class DataShardGrain([PersistentState("job", StorageNames.Cluster)] IPersistentState<JobState> state, ILogger<DataShardGrain> logger)
    : JobGrain(state, logger), IDataShardGrain;

internal sealed class HeadParallelRankGrain([PersistentState("job", StorageNames.Cluster)] IPersistentState<JobState> state, ILogger<HeadParallelRankGrain> logger)
    : JobGrain(state, logger), IHeadParallelRankGrain;
