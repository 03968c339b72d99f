namespace Orleans.MoE.Grains;

/// <summary>The grain storage provider every grain of the cluster persists its state in.</summary>
public static class StorageNames
{
    public const string Cluster = "moe";
}
