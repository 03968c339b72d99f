using System.Diagnostics;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.ClusterProcesses;

/// <summary>
/// A cluster of real processes on loopback: a redis-server, named `moe silo` processes sharing one
/// artifact store, and a client; silos can be killed (SIGKILL), stopped (SIGTERM) or frozen
/// (SIGSTOP). Disposing it stops every process it started.
/// </summary>
internal sealed class ProcessCluster : IAsyncDisposable
{
    private readonly Dictionary<string, SiloProcess> _silos = [];
    private ClusterClient? _client;

    private ProcessCluster(string root)
    {
        Artifacts = Path.Combine(root, "artifacts");
        Redis = new RedisServer();
    }

    public RedisServer Redis { get; }

    public string Artifacts { get; }

    public IClusterClient Client => _client!.Client;

    /// <summary>Starts Redis and the silos (name, --pool flag), and waits until every silo has declared its pools.</summary>
    public static async Task<ProcessCluster> StartAsync(string root, IReadOnlyDictionary<string, string>? environment, params (string Name, string Pool)[] silos)
    {
        var cluster = new ProcessCluster(root);
        try
        {
            foreach (var (name, pool) in silos) cluster.StartSilo(name, pool, environment);
            cluster._client = await ClusterClient.ConnectAsync(cluster.Redis.ConnectionString);
            await cluster._client.WaitForSilosAsync(silos.Select(s => s.Name).ToArray());
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public SiloProcess StartSilo(string name, string pool, IReadOnlyDictionary<string, string>? environment = null)
    {
        var silo = new SiloProcess(name, Redis.ConnectionString, Artifacts, [pool], environment);
        _silos[name] = silo;
        return silo;
    }

    public Task WaitForSilosAsync(params string[] names) => _client!.WaitForSilosAsync(names);

    /// <summary>A new client in place of the old one, for after every silo it knew as a gateway is gone.</summary>
    public async Task ReconnectClientAsync()
    {
        try { await _client!.DisposeAsync(); } catch (Exception) { /* its gateways are gone */ }
        _client = await ClusterClient.ConnectAsync(Redis.ConnectionString);
    }

    public SiloProcess Silo(string name) => _silos[name];

    /// <summary>SIGKILL: the machine is gone, no goodbye.</summary>
    public void Kill(string name) => _silos[name].Process.Kill();

    /// <summary>Sends a signal (TERM, STOP, CONT) to a process.</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString()]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    public IExperimentCoordinatorGrain Submit(string id, string experimentJson)
    {
        var coordinator = Client.GetGrain<IExperimentCoordinatorGrain>(id);
        coordinator.StartAsync(new ExperimentPlan { ExperimentId = id, ExperimentJson = experimentJson, Directory = id }).GetAwaiter().GetResult();
        return coordinator;
    }

    public string ExperimentDirectory(string id) => Path.Combine(Artifacts, id);

    /// <summary>Polls the experiment until the condition holds; the test fails after the timeout.</summary>
    public static async Task<ExperimentStatus> UntilAsync(IExperimentCoordinatorGrain coordinator, Func<ExperimentStatus, bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            ExperimentStatus status;
            try
            {
                status = await coordinator.GetStatusAsync();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);   // the coordinator's silo was just killed: it re-activates elsewhere
                continue;
            }
            if (condition(status)) return status;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}; last: {status.Phase}: {status.Message}");
            await Task.Delay(100);
        }
    }

    /// <summary>The name of the silo a grain is active on now.</summary>
    public async Task<string> SiloOfAsync(IAddressable grain)
    {
        var address = await Client.GetGrain<IManagementGrain>(0).GetActivationAddress(grain)
            ?? throw new InvalidOperationException($"{grain} is not active");
        var silos = await Client.GetGrain<ISlotLedgerGrain>(0).GetSilosAsync();
        return silos.Single(s => s.Silo == SiloPinnedPlacement.KeyOf(address)).Name;
    }

    /// <summary>The process id of the worker that runs the job's attempt on the named silo.</summary>
    public async Task<int> WorkerOfAsync(string silo, string jobKey, int attempt)
    {
        var view = (await Client.GetGrain<ISlotLedgerGrain>(0).GetSilosAsync()).Single(s => s.Name == silo);
        var running = await Client.GetGrain<ISiloSupervisorGrain>(view.Silo).GetRunningAsync();
        return running.Single(r => r.JobKey == jobKey && r.Attempt == attempt).ProcessId;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try { await _client.DisposeAsync(); } catch (Exception) { /* the cluster may be half gone */ }
        }
        foreach (var silo in _silos.Values) silo.Dispose();
        Redis.Dispose();
    }
}
