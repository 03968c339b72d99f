namespace Orleans.MoE.Grains.Experiments;

/// <summary>
/// What a client submits: the experiment file as validated and canonicalised by the client (the
/// coordinator parses it again: the text is the contract, no tensors or data travel), and where its
/// artifacts go, relative to the cluster's artifact store.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("moe.ExperimentPlan")]
public sealed record ExperimentPlan
{
    [Id(0)] public required string ExperimentId { get; init; }

    /// <summary>The experiment, as JSON (the client sends the canonical form of the file it read, JSON or YAML).</summary>
    [Id(1)] public required string ExperimentJson { get; init; }

    /// <summary>The experiment directory, relative to the artifact store of every silo.</summary>
    [Id(2)] public required string Directory { get; init; }

    /// <summary>Where the file came from, for messages.</summary>
    [Id(3)] public string Source { get; init; } = "experiment";
}
