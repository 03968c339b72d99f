namespace Orleans.MoE.Silo.Hosting;

/// <summary>The configuration keys a silo reads beyond its options classes; the flags of <c>moe silo</c> set them.</summary>
public static class SiloConfiguration
{
    /// <summary>The Redis connection string of a real cluster's membership, grain state and reminders; absent = an embedded cluster.</summary>
    public const string Redis = "MoE:Cluster:Redis";

    /// <summary>The environment variable a client or silo takes the Redis connection string from when no flag gives it.</summary>
    public const string RedisVariable = "MOE_CLUSTER";

    /// <summary>A file whose first line is the Redis password (or the variable <see cref="RedisPasswordVariable"/>).</summary>
    public const string RedisPasswordFile = "MoE:Cluster:RedisPasswordFile";

    public const string RedisPasswordVariable = "MOE_REDIS_PASSWORD";

    /// <summary>Where an embedded cluster keeps its grain state.</summary>
    public const string StateDirectory = "MoE:Cluster:StateDirectory";

    /// <summary>The artifact store's root directory (<see cref="Grains.ArtifactStoreOptions"/>).</summary>
    public const string ArtifactRoot = "MoE:Artifacts:Root";

    public const string ClusterId = "Orleans:ClusterId";
    public const string ServiceId = "Orleans:ServiceId";
    public const string SiloName = "Orleans:SiloName";
    public const string AdvertisedAddress = "Orleans:Endpoints:AdvertisedIPAddress";
    public const string SiloPort = "Orleans:Endpoints:SiloPort";
    public const string GatewayPort = "Orleans:Endpoints:GatewayPort";

    /// <summary>Orleans' membership options (<c>ProbeTimeout</c>, <c>NumMissedProbesLimit</c>, ...): how fast a dead silo is declared dead.</summary>
    public const string Membership = "Orleans:Membership";

    /// <summary>The section of the silo metadata (Orleans' <c>UseSiloMetadata</c>), which declares the device pools.</summary>
    public const string Metadata = "Orleans:Metadata";

    /// <summary>True in a Kubernetes pod: Orleans' Kubernetes hosting (<c>UseKubernetesHosting</c>) with its
    /// <c>POD_NAME</c>, <c>POD_NAMESPACE</c>, <c>POD_IP</c>, <c>ORLEANS_CLUSTER_ID</c> and <c>ORLEANS_SERVICE_ID</c> variables.</summary>
    public const string KubernetesHosting = "MoE:Kubernetes:Hosting";

    public const string DefaultClusterId = "moe";
    public const string DefaultServiceId = "orleans-moe";
}
