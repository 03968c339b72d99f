using System.CommandLine;
using Orleans.MoE.Grains.Experiments;

namespace Orleans.MoE.Client.Cluster;

/// <summary>`moe cancel ID`: stops an experiment's jobs (each checkpoints first) and ends it as cancelled.</summary>
internal static class CancelCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "The experiment id." };
        var cluster = ClusterOption.Create();
        var command = new Command("cancel", "Cancel an experiment on a cluster: its jobs checkpoint and stop.");
        command.Arguments.Add(id);
        command.Options.Add(cluster);
        command.SetAction(async (parse, cancellation) =>
        {
            var experiment = parse.GetValue(id)!;
            await using var connection = await ClusterConnection.ConnectAsync(ClusterOption.Required(parse.GetValue(cluster)));
            var coordinator = connection.Client.GetGrain<IExperimentCoordinatorGrain>(experiment);
            await ExperimentLookup.RequireAsync(coordinator, experiment);
            await coordinator.CancelAsync($"cancelled by {Environment.UserName} with moe cancel");
            Console.WriteLine($"experiment {experiment}: {(await coordinator.GetStatusAsync()).Message}");
            return 0;
        });
        return command;
    }
}
