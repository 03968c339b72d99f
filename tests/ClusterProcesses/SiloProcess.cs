namespace Orleans.MoE.ClusterProcesses;

/// <summary>A `moe silo` process (or another silo host) of a test cluster, on loopback ports, with fast membership.</summary>
internal sealed class SiloProcess : IDisposable
{
    /// <param name="host">the program and its first arguments; default `dotnet moe.dll`</param>
    /// <param name="membership">the `Orleans__Membership__*` variables; default <see cref="Membership"/> (short timeouts),
    /// <see cref="OrleansDefaultMembership"/> for Orleans' own defaults</param>
    public SiloProcess(string name, string redis, string artifacts, IEnumerable<string> pools, IReadOnlyDictionary<string, string>? environment = null,
        IReadOnlyList<string>? host = null, IReadOnlyDictionary<string, string>? membership = null)
    {
        Name = name;
        var arguments = new List<string>
        {
            "silo", "--cluster", redis, "--name", name, "--artifacts", artifacts, "--advertise", "127.0.0.1",
            "--silo-port", FreePorts.Next().ToString(), "--gateway-port", FreePorts.Next().ToString(),
        };
        foreach (var pool in pools) arguments.AddRange(["--pool", pool]);
        var variables = new Dictionary<string, string>(membership ?? Membership)
        {
            ["MoE__Silo__WorkerCommand"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "moe.dll")}",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) variables[k] = v;
        Process = host is null ? ChildProcess.Moe(arguments, variables) : new ChildProcess(host[0], [.. host.Skip(1), .. arguments], variables);
    }

    /// <summary>Short membership timeouts, so a killed silo is declared dead in seconds.</summary>
    public static readonly IReadOnlyDictionary<string, string> Membership = new Dictionary<string, string>
    {
        ["Orleans__Membership__ProbeTimeout"] = "00:00:01",
        ["Orleans__Membership__NumMissedProbesLimit"] = "1",
        ["Orleans__Membership__NumVotesForDeathDeclaration"] = "1",
        ["Orleans__Membership__TableRefreshTimeout"] = "00:00:02",
        ["Orleans__Membership__IAmAliveTablePublishTimeout"] = "00:00:02",
    };

    /// <summary>No membership variables: Orleans' defaults (a probe timeout of 5 s, 3 missed probes, 2 votes, ...).</summary>
    public static readonly IReadOnlyDictionary<string, string> OrleansDefaultMembership = new Dictionary<string, string>();

    public string Name { get; }

    public ChildProcess Process { get; }

    public void Dispose() => Process.Dispose();
}
