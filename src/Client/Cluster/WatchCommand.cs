using System.CommandLine;
using System.Runtime.InteropServices;
using Orleans.MoE.Grains.Experiments;

namespace Orleans.MoE.Client.Cluster;

/// <summary>`moe watch ID`: a live view of an experiment on a cluster; Ctrl-C stops watching, not the experiment.</summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "The experiment id." };
        var cluster = ClusterOption.Create();
        var command = new Command("watch", "Watch an experiment on a cluster until it ends (Ctrl-C detaches).");
        command.Arguments.Add(id);
        command.Options.Add(cluster);
        command.SetAction(async (parse, cancellation) =>
        {
            await using var connection = await ClusterConnection.ConnectAsync(ClusterOption.Required(parse.GetValue(cluster)));
            return await WatchAsync(connection.Client.GetGrain<IExperimentCoordinatorGrain>(parse.GetValue(id)!), parse.GetValue(id)!);
        });
        return command;
    }

    public static async Task<int> WatchAsync(IExperimentCoordinatorGrain coordinator, string id)
    {
        using var detach = new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            detach.Cancel();
        });
        await ExperimentLookup.RequireAsync(coordinator, id);
        var status = await ExperimentWatch.RunAsync(coordinator, detach.Token);
        if (!status.Phase.IsTerminal())
        {
            Console.WriteLine($"detached; experiment {id} keeps running (moe watch {id}, moe cancel {id})");
            return 0;
        }
        return RunCommand.Finish(status, localDirectory: null);
    }
}
