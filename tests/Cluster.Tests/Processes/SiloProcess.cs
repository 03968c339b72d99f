namespace Orleans.MoE.Cluster.Tests.Processes;

/// <summary>A `moe silo` process of a test cluster, on loopback ports, with fast membership for the tests.</summary>
internal sealed class SiloProcess : IDisposable
{
    public SiloProcess(string name, string redis, string artifacts, IEnumerable<string> pools, IReadOnlyDictionary<string, string>? environment = null)
    {
        Name = name;
        var arguments = new List<string>
        {
            "silo", "--cluster", redis, "--name", name, "--artifacts", artifacts, "--advertise", "127.0.0.1",
            "--silo-port", FreePorts.Next().ToString(), "--gateway-port", FreePorts.Next().ToString(),
        };
        foreach (var pool in pools) arguments.AddRange(["--pool", pool]);
        var variables = new Dictionary<string, string>(Membership)
        {
            ["MoE__Silo__WorkerCommand"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "moe.dll")}",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) variables[k] = v;
        Process = ChildProcess.Moe(arguments, variables);
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

    public string Name { get; }

    public ChildProcess Process { get; }

    public void Dispose() => Process.Dispose();
}
