using System.CommandLine;
using Orleans.MoE.Grains.Experiments;

namespace Orleans.MoE.Client.Cluster;

/// <summary>`moe report ID`: the path of an experiment's HTML report in the artifact store.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "The experiment id." };
        var cluster = ClusterOption.Create();
        var command = new Command("report", "Print the path of an experiment's HTML report (relative to the artifact store).");
        command.Arguments.Add(id);
        command.Options.Add(cluster);
        command.SetAction(async (parse, cancellation) =>
        {
            var experiment = parse.GetValue(id)!;
            await using var connection = await ClusterConnection.ConnectAsync(ClusterOption.Required(parse.GetValue(cluster)));
            var status = await ExperimentLookup.RequireAsync(connection.Client.GetGrain<IExperimentCoordinatorGrain>(experiment), experiment);
            if (status.Report is null) throw new ArgumentException($"experiment {experiment} has no report yet ({status.Phase}: {status.Message})");
            Console.WriteLine(status.Report);
            return 0;
        });
        return command;
    }
}
