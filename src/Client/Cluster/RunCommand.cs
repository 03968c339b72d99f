using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Embedded;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Client.Cluster;

/// <summary>
/// `moe run EXPERIMENT`: validates the experiment file completely, submits it to its coordinator and
/// watches it. With --cluster (or MOE_CLUSTER) it runs on that cluster and Ctrl-C only stops
/// watching; without, it hosts an embedded cluster in this process (no server, state in the
/// experiment directory), where Ctrl-C stops the jobs at a checkpoint and running again resumes.
/// </summary>
internal static partial class RunCommand
{
    public const int Interrupted = 130;

    public static Command Create()
    {
        var file = new Argument<FileInfo>("experiment") { Description = "The experiment file (see experiments/disco-demo.json)." };
        var cluster = ClusterOption.Create();
        var directory = new Option<DirectoryInfo?>("--dir")
        {
            Description = "Embedded: the experiment directory (default runs/NAME); on a cluster: relative to its artifact store (default experiments/ID).",
        };
        var id = new Option<string?>("--id") { Description = "The experiment's id in the cluster (default: its name)." };
        var detach = new Option<bool>("--detach") { Description = "Submit and return without watching (cluster only)." };
        var command = new Command("run", "Run an MoE-DisCo experiment through the grains: on a cluster, or on an embedded one in this process.");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { cluster, directory, id, detach }) command.Options.Add(option);
        command.SetAction((parse, cancellation) =>
        {
            var path = parse.GetValue(file)!.FullName;
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: experiment file not found");
            var experiment = new ExperimentSource(File.ReadAllText(path), path);
            return ClusterOption.Resolve(parse.GetValue(cluster)) is { } redis
                ? OnClusterAsync(experiment, redis, parse.GetValue(id), parse.GetValue(directory)?.ToString(), parse.GetValue(detach))
                : EmbeddedAsync(experiment, parse.GetValue(id), parse.GetValue(directory)?.FullName);
        });
        return command;
    }

    /// <summary>An experiment file's text and where it came from.</summary>
    public sealed record ExperimentSource(string Text, string Origin);

    /// <summary>Runs the experiment on an embedded cluster and prints its summary; running it again after Ctrl-C resumes it.</summary>
    public static async Task<int> EmbeddedAsync(ExperimentSource experiment, string? id, string? directory)
    {
        var config = DisCoExperimentLoader.Parse(experiment.Text, experiment.Origin);   // every problem, before anything starts
        var experimentId = ExperimentId(id ?? config.Name);
        var root = Path.GetFullPath(directory ?? Path.Combine("runs", config.Name));
        // Claimed before anything is written there (the embedded cluster keeps its state inside it).
        OutputDirectory.Claim(root, DisCoLayout.Kind, inputs: config.Data.Paths).Open();
        Console.WriteLine($"MoE-DisCo experiment '{config.Name}' ({config.Experts} experts) on the embedded cluster, in {root}");
        using var stop = new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        void OnSignal(PosixSignalContext context)
        {
            if (stop.IsCancellationRequested) return;   // a second signal terminates at once
            context.Cancel = true;
            stop.Cancel();
            Console.WriteLine("stopping: every job checkpoints and stops...");
        }

        await using var cluster = await EmbeddedCluster.StartAsync(new EmbeddedClusterOptions
        {
            ArtifactRoot = Path.GetDirectoryName(root)!,
            StateDirectory = Path.Combine(root, "cluster-state"),
            Pools = EmbeddedPools(config.Prices, config.Clustering.Shards),
        });
        if (cluster.WebUrl is { } url) Console.WriteLine($"web view: {url}");
        var coordinator = cluster.Client.GetGrain<IExperimentCoordinatorGrain>(experimentId);
        await coordinator.StartAsync(new ExperimentPlan
        {
            ExperimentId = experimentId, ExperimentJson = DisCoExperimentLoader.ToCanonicalJson(config), Directory = Path.GetFileName(root), Source = experiment.Origin,
        });
        var status = await ExperimentWatch.RunAsync(coordinator, stop.Token);
        if (!status.Phase.IsTerminal())
        {
            await cluster.StopAsync();
            Console.WriteLine("interrupted; run the same command again to resume where it stopped");
            return Interrupted;
        }
        return Finish(status, root);
    }

    private static async Task<int> OnClusterAsync(ExperimentSource experiment, string redis, string? id, string? directory, bool detach)
    {
        var config = DisCoExperimentLoader.Parse(experiment.Text, experiment.Origin);
        var experimentId = ExperimentId(id ?? config.Name);
        await using var connection = await ClusterConnection.ConnectAsync(redis);
        var coordinator = connection.Client.GetGrain<IExperimentCoordinatorGrain>(experimentId);
        var status = await coordinator.StartAsync(new ExperimentPlan
        {
            ExperimentId = experimentId, ExperimentJson = DisCoExperimentLoader.ToCanonicalJson(config), Directory = directory ?? Path.Combine("experiments", experimentId),
            Source = experiment.Origin,
        });
        Console.WriteLine($"experiment '{config.Name}' submitted as {experimentId} ({status.Phase}); artifacts in {status.Directory} of the artifact store");
        if (detach) return 0;
        return await WatchCommand.WatchAsync(coordinator, experimentId);
    }

    /// <summary>
    /// The embedded silo's pools: one low-cost and one high-memory device sharing this machine's
    /// cores, at the experiment's prices; the low-cost pool has a slot per data shard when the
    /// clustering has several, so that they can all run at once.
    /// </summary>
    private static IReadOnlyList<DevicePool> EmbeddedPools(DevicePriceTable prices, int dataShards) =>
    [
        new DevicePool
        {
            Class = DisCoJobGraph.LowCost, Devices = Math.Max(1, dataShards), DollarsPerHour = prices.LowCost.DollarsPerHour, RelativeThroughput = prices.LowCost.RelativeThroughput,
        },
        new DevicePool { Class = DisCoJobGraph.HighMemory, DollarsPerHour = prices.HighMemory.DollarsPerHour, RelativeThroughput = prices.HighMemory.RelativeThroughput },
    ];

    internal static int Finish(ExperimentStatus status, string? localDirectory)
    {
        Console.WriteLine();
        switch (status.Phase)
        {
            case ExperimentPhase.Completed:
                if (localDirectory is not null) Console.WriteLine(File.ReadAllText(new DisCoLayout(localDirectory).Summary));
                Console.WriteLine($"report: {status.Report}");
                return 0;
            case ExperimentPhase.Failed:
                Console.Error.WriteLine($"error: experiment {status.ExperimentId} failed: {status.Message}");
                return CommandErrors.Failure;
            default:
                Console.Error.WriteLine($"experiment {status.ExperimentId}: {status.Message}");
                return CommandErrors.Failure;
        }
    }

    private static string ExperimentId(string candidate) =>
        IdPattern().IsMatch(candidate) ? candidate
            : throw new ArgumentException($"'{candidate}' cannot be an experiment id: use letters, digits, '.', '-' and '_' (give --id, or rename the experiment)");

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex IdPattern();
}
