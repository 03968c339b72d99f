namespace Orleans.MoE.Grains.Experiments;

/// <summary>The grain type that owns a job.</summary>
public enum JobKind
{
    Phase,
    ExpertSubmodel,
    DataShard,
    HeadParallelRank,
    RankGroup,
}

/// <summary>One job of an experiment's plan: the phase it runs, the state it belongs to, its device class and the jobs it needs first.</summary>
public sealed record JobNode(string Name, string Phase, ExperimentPhase Stage, string DeviceClass, IReadOnlyList<string> DependsOn, JobKind Kind = JobKind.Phase);
