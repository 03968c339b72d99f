using System.CommandLine;
using Orleans.MoE.Silo.Worker;

namespace Orleans.MoE.Client.Cluster;

/// <summary>`moe worker --job FILE`: one attempt of a job, started by a silo's supervisor (not by hand).</summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var job = new Option<FileInfo>("--job") { Description = "The job description the supervisor wrote.", Required = true };
        var command = new Command("worker", "Run one job attempt as a silo's worker process (started by the silo).") { Hidden = true };
        command.Options.Add(job);
        command.SetAction(parse => WorkerRunner.Run(parse.GetValue(job)!.FullName, Console.Out, Console.Error));
        return command;
    }
}
