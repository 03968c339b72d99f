using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.MoE.Grains;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.MoE.Silo.Storage;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// An in-process cluster for the grains' logic: silos with the pools each test gives them, grain
/// state in files, in-memory reminders, and a <see cref="ScriptedSupervisor"/> in place of worker processes.
/// </summary>
internal sealed class GrainTestCluster : IAsyncDisposable
{
    private GrainTestCluster(InProcessTestCluster cluster, JobScript script, string artifacts)
    {
        Cluster = cluster;
        Script = script;
        Artifacts = artifacts;
    }

    public InProcessTestCluster Cluster { get; }

    public JobScript Script { get; }

    /// <summary>The artifact store (a temporary directory, removed with the cluster).</summary>
    public string Artifacts { get; }

    public IClusterClient Client => Cluster.Client;

    /// <param name="pools">the pools of silo i (named Silo_i); silos started later get the pools of their index too</param>
    public static async Task<GrainTestCluster> StartAsync(IReadOnlyList<IReadOnlyList<DevicePool>> pools, int silos = -1)
    {
        var script = new JobScript();
        var artifacts = Path.Combine(Path.GetTempPath(), "moe-cluster-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(artifacts);
        var builder = new InProcessTestClusterBuilder((short)(silos < 0 ? pools.Count : silos));
        builder.ConfigureSilo((options, silo) =>
        {
            var index = int.Parse(options.SiloName[(options.SiloName.LastIndexOf('_') + 1)..]);   // silos are named Silo_0, Silo_1, ...
            var metadata = DevicePoolMetadata.Format(index < pools.Count ? pools[index] : []);
            metadata[DevicePoolMetadata.CoresKey] = "4";
            silo.UseSiloMetadata(metadata);
            // State in files of the artifact store, as a shared volume would hold it: it outlives any one silo.
            silo.Services.AddGrainStorage(StorageNames.Cluster, (sp, _) => new FileGrainStorage(Path.Combine(artifacts, "state"), sp.GetRequiredService<IGrainStorageSerializer>()));
            silo.UseInMemoryReminderService();
            silo.AddMoeGrains();
            silo.Services.Configure<ArtifactStoreOptions>(o => o.Root = artifacts);
            silo.Services.AddSingleton<IJobSupervisor>(new ScriptedSupervisor(script, options.SiloName));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new GrainTestCluster(cluster, script, artifacts);
    }

    /// <summary>Polls until the condition holds; fails the test after the timeout.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await probe();
            if (condition(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}; last: {value}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        Directory.Delete(Artifacts, recursive: true);
    }
}
