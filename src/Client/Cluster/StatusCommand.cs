using System.CommandLine;
using System.Globalization;
using Orleans.MoE.Grains.Experiments;

namespace Orleans.MoE.Client.Cluster;

/// <summary>`moe status [ID]`: one experiment's phase and jobs, or a line per experiment of the cluster.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var id = new Argument<string?>("id") { Description = "The experiment id (default: every experiment).", Arity = ArgumentArity.ZeroOrOne };
        var cluster = ClusterOption.Create();
        var command = new Command("status", "Show an experiment's phase and jobs, or list the cluster's experiments.");
        command.Arguments.Add(id);
        command.Options.Add(cluster);
        command.SetAction(async (parse, cancellation) =>
        {
            await using var connection = await ClusterConnection.ConnectAsync(ClusterOption.Required(parse.GetValue(cluster)));
            var client = connection.Client;
            if (parse.GetValue(id) is { } one)
            {
                var status = await ExperimentLookup.RequireAsync(client.GetGrain<IExperimentCoordinatorGrain>(one), one);
                Console.WriteLine($"{status.ExperimentId} ({status.Name}): {status.Phase}: {status.Message}");
                foreach (var job in status.Jobs)
                {
                    var where = job.Silo is null ? "" : $" on {job.Silo}";
                    var step = job.TotalSteps > 0 ? $" step {job.Step}/{job.TotalSteps}" : "";
                    var loss = job.Loss is { } l ? string.Create(CultureInfo.InvariantCulture, $" loss {l:F4}") : "";
                    Console.WriteLine($"  {job.Name,-18} {job.Status,-9} attempt {job.Attempt}{where}{step}{loss}{(job.Message is null ? "" : $"  ({job.Message})")}");
                }
                return 0;
            }
            var ids = await client.GetGrain<IExperimentRegistryGrain>(0).ListAsync();
            if (ids.Count == 0) Console.WriteLine("no experiments on this cluster yet (moe run EXPERIMENT --cluster ...)");
            foreach (var experiment in ids)
            {
                var status = await client.GetGrain<IExperimentCoordinatorGrain>(experiment).GetStatusAsync();
                Console.WriteLine($"{experiment,-24} {status.Phase,-18} {status.Message}");
            }
            return 0;
        });
        return command;
    }
}
