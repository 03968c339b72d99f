namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// The tests that start real worker and silo processes run one at a time: each already loads every
/// core, and running them side by side only makes their timeouts fragile.
/// </summary>
[CollectionDefinition(Name)]
public sealed class WorkerProcessesCollection
{
    public const string Name = "worker processes";
}
