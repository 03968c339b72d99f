using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orleans.MoE.Grains.Jobs;

// One grain type per kind of job, so that each is its own identity in the cluster (and in its
// traces and logs); what they do with their job is the same and lives in JobGrain.

internal sealed class PhaseJobGrain([PersistentState("job", StorageNames.Cluster)] IPersistentState<JobState> state,
    IOptions<ArtifactStoreOptions> artifacts, ILogger<PhaseJobGrain> logger)
    : JobGrain(state, artifacts, logger), IPhaseJobGrain;

internal sealed class ExpertSubmodelGrain([PersistentState("job", StorageNames.Cluster)] IPersistentState<JobState> state,
    IOptions<ArtifactStoreOptions> artifacts, ILogger<ExpertSubmodelGrain> logger)
    : JobGrain(state, artifacts, logger), IExpertSubmodelGrain;

internal sealed class DataShardGrain([PersistentState("job", StorageNames.Cluster)] IPersistentState<JobState> state,
    IOptions<ArtifactStoreOptions> artifacts, ILogger<DataShardGrain> logger)
    : JobGrain(state, artifacts, logger), IDataShardGrain;

internal sealed class HeadParallelRankGrain([PersistentState("job", StorageNames.Cluster)] IPersistentState<JobState> state,
    IOptions<ArtifactStoreOptions> artifacts, ILogger<HeadParallelRankGrain> logger)
    : JobGrain(state, artifacts, logger), IHeadParallelRankGrain;
