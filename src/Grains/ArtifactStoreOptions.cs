namespace Orleans.MoE.Grains;

/// <summary>
/// The artifact store: the directory every silo sees at the same place (a shared volume on
/// Kubernetes), holding each experiment's directory. Grain state holds paths relative to it.
/// </summary>
public sealed class ArtifactStoreOptions
{
    public string Root { get; set; } = "";

    public string PathOf(string relative) => Path.GetFullPath(Path.Combine(Root, relative));
}
