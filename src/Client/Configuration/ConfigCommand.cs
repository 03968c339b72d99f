using System.CommandLine;
using Orleans.MoE.Config;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Client.Configuration;

/// <summary>
/// `moe config check FILE` validates a model, training or experiment file (JSON or YAML) without
/// running anything; `moe config show FILE` prints it resolved, every default filled in, as YAML.
/// The kind of file is told from its fields unless --kind names it.
/// </summary>
internal static class ConfigCommand
{
    /// <summary>The kinds of configuration file, by the name --kind takes.</summary>
    public static IReadOnlyDictionary<string, IConfigSchema> Kinds { get; } = new Dictionary<string, IConfigSchema>
    {
        ["model"] = ModelConfigLoader.Schema,
        ["training"] = TrainingConfigLoader.Schema,
        ["experiment"] = DisCoExperimentLoader.Schema,
    };

    public static Command Create()
    {
        var command = new Command("config", "Check a model, training or experiment file (JSON or YAML), or print it resolved.");
        command.Subcommands.Add(Subcommand("check", "Validate the file without running anything; every problem is listed.", (file, schema, value) =>
            Console.WriteLine($"{file}: a valid {schema.Description}")));
        command.Subcommands.Add(Subcommand("show", "Print the resolved configuration (every default filled in) as YAML.", (file, schema, value) =>
            Console.Write(schema.ToYaml(value, $"{file}: the resolved {schema.Description}, every default filled in"))));
        return command;
    }

    private static Command Subcommand(string name, string description, Action<string, IConfigSchema, object> action)
    {
        var file = new Argument<FileInfo>("file") { Description = "A model, training or experiment file (.json, .yaml or .yml)." };
        var kind = new Option<string?>("--kind") { Description = "The kind of file; told from its fields when absent." };
        kind.AcceptOnlyFromAmong([.. Kinds.Keys]);
        var command = new Command(name, description);
        command.Arguments.Add(file);
        command.Options.Add(kind);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!.FullName;
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found");
            var text = File.ReadAllText(path);
            var schema = Kinds[parse.GetValue(kind) ?? KindOf(text, path)];
            action(path, schema, schema.Parse(text, path));
            return 0;
        });
        return command;
    }

    /// <summary>The kind whose fields the file uses; a file that does not parse is reported as such.</summary>
    private static string KindOf(string text, string path)
    {
        var problems = new ConfigProblems();
        var document = ConfigDocument.Parse(text, ConfigFormats.Of(path), problems);
        if (problems.HasProblem("$")) throw new ConfigException(path, "configuration file", problems.List);
        return ConfigKinds.Detect(document, Kinds) ?? throw new ConfigException(path, "configuration file",
            [new ConfigProblem("$", $"cannot tell which kind of file this is from its fields; give --kind {string.Join(", ", Kinds.Keys)}")]);
    }
}
