using System.CommandLine;
using Orleans.MoE.Client;
using Orleans.MoE.Client.Configuration;
using Orleans.MoE.Client.Data;
using Orleans.MoE.Client.Cluster;
using Orleans.MoE.Client.Demo;
using Orleans.MoE.Client.Diagnostics;
using Orleans.MoE.Client.Training;

var root = new RootCommand("Orleans.MoE: train Mixture-of-Experts language models on mixed GPU fleets.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(PrepareCommand.Create());
root.Subcommands.Add(ClusterCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(ConfigCommand.Create());
root.Subcommands.Add(SelfTestCommand.Create());
foreach (var command in new[] { RunCommand.Create(), WatchCommand.Create(), StatusCommand.Create(), CancelCommand.Create(),
             SilosCommand.Create(), ReportCommand.Create(), TraceCommand.Create(), SiloCommand.Create(), WorkerCommand.Create(), CertsCommand.Create() })
    root.Subcommands.Add(command);

try
{
    var parse = root.Parse(args);
    if (parse.Errors.Count > 0) return CommandErrors.ReportParseErrors(parse, Console.Error);
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    return CommandErrors.Report(e, Console.Error);
}
