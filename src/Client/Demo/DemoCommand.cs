using System.CommandLine;
using Orleans.MoE.Client.Cluster;

namespace Orleans.MoE.Client.Demo;

/// <summary>
/// `moe demo`: the main job on the embedded default, the experiment of experiments/disco-demo.json
/// (MoE-DisCo with 4 experts and its baseline on the built-in corpus) through the grains of an
/// embedded cluster. Running it again resumes it, or, when it has finished, prints its summary again.
/// </summary>
internal static class DemoCommand
{
    public const string ResourceName = "Orleans.MoE.Client.disco-demo.json";

    public static Command Create()
    {
        var directory = new Option<DirectoryInfo>("--dir")
        {
            Description = "The experiment directory.",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("runs", "disco-demo")),
        };
        var command = new Command("demo", "Run the MoE-DisCo demo experiment and its baseline on the built-in corpus, on an embedded cluster.");
        command.Options.Add(directory);
        command.SetAction((parse, cancellation) =>
        {
            using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream(ResourceName)
                ?? throw new InvalidOperationException($"the embedded experiment {ResourceName} is missing from this build");
            var text = new StreamReader(stream).ReadToEnd();
            return RunCommand.EmbeddedAsync(new RunCommand.ExperimentSource(text, "the embedded demo experiment (experiments/disco-demo.json)"),
                id: null, directory: parse.GetValue(directory)!.FullName);
        });
        return command;
    }
}
