using System.CommandLine;
using Orleans.MoE.Silo.Telemetry;

namespace Orleans.MoE.Client.Cluster;

/// <summary>`moe trace ID|DIR`: an experiment's span tree with durations, from the span files its processes wrote into its directory.</summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("experiment") { Description = "The experiment directory, or its id (looked up as ROOT/ID and ROOT/experiments/ID)." };
        var root = new Option<DirectoryInfo?>("--artifacts")
        {
            Description = "The artifact store an id is looked up in (default: runs, where an embedded `moe run` writes).",
        };
        var command = new Command("trace", "Print an experiment's recorded trace as a tree of spans with durations.");
        command.Arguments.Add(target);
        command.Options.Add(root);
        command.SetAction(parse =>
        {
            var directory = Resolve(parse.GetValue(target)!, parse.GetValue(root)?.FullName ?? "runs");
            SpanTree.Load(directory).Print(Console.Out);
            return 0;
        });
        return command;
    }

    private static string Resolve(string target, string artifacts)
    {
        string[] tried = [target, Path.Combine(artifacts, target), Path.Combine(artifacts, "experiments", target)];
        return tried.FirstOrDefault(Directory.Exists)
            ?? throw new ArgumentException($"experiment '{target}': none of {string.Join(", ", tried)} is a directory; give the experiment directory, or --artifacts with the artifact store");
    }
}
