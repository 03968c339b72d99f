using System.CommandLine;
using Orleans.MoE.Silo.Hosting;

namespace Orleans.MoE.Client.Cluster;

/// <summary>The <c>--cluster</c> option: the Redis connection string of a real cluster (or <c>MOE_CLUSTER</c>).</summary>
internal static class ClusterOption
{
    public static Option<string?> Create(string description = "Redis connection string of the cluster (host:port[,password=...]); default: MOE_CLUSTER.") =>
        new("--cluster") { Description = description };

    /// <summary>The flag, else MOE_CLUSTER; null when neither is set.</summary>
    public static string? Resolve(string? flag) =>
        flag is { Length: > 0 } ? flag : Environment.GetEnvironmentVariable(SiloConfiguration.RedisVariable) is { Length: > 0 } e ? e : null;

    public static string Required(string? flag) => Resolve(flag)
        ?? throw new ArgumentException("no cluster to talk to: pass --cluster HOST:PORT (the cluster's Redis) or set MOE_CLUSTER");
}
