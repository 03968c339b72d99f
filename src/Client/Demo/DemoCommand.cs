using System.CommandLine;

namespace Orleans.MoE.Client.Demo;

/// <summary>`moe demo`: trains a tiny byte-level model on a text file that ships with Debian.</summary>
internal static class DemoCommand
{
    public const string DefaultTextFile = "/usr/share/common-licenses/GPL-3";

    public static Command Create()
    {
        var file = new Option<FileInfo>("--file")
        {
            Description = "Text file to train on (bytes are the tokens).",
            DefaultValueFactory = _ => new FileInfo(DefaultTextFile),
        };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => 600 };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation and sampling.", DefaultValueFactory = _ => 1234 };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: all cores)." };

        var command = new Command("demo", "Train a tiny byte-level language model and print the loss going down.");
        command.Options.Add(file);
        command.Options.Add(steps);
        command.Options.Add(seed);
        command.Options.Add(threads);
        command.SetAction(parse =>
        {
            var options = new ByteLevelDemo.Options(
                parse.GetValue(file)!.FullName,
                parse.GetValue(steps),
                parse.GetValue(seed),
                parse.GetValue(threads) ?? Environment.ProcessorCount);
            return ByteLevelDemo.Run(options, Console.Out);
        });
        return command;
    }
}
