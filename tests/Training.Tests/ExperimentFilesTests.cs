using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Orleans.MoE.Config;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Training.Tests;

/// <summary>
/// Every file in experiments/ loads to the configuration it gave before the configuration layer
/// existed (Fixtures/experiments/*.loaded.json, written by the hand-written loaders it replaced), and
/// its YAML twin (Fixtures/yaml/) loads to an equal record with the same canonical form.
/// </summary>
public class ExperimentFilesTests
{
    /// <summary>The records as System.Text.Json writes them by default: C# names (also where a file spells a field otherwise), derived properties included.</summary>
    private static readonly JsonSerializerOptions DumpOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver
        {
            Modifiers = { info => { foreach (var p in info.Properties) if (p.AttributeProvider is MemberInfo m) p.Name = m.Name; } },
        },
    };

    public static TheoryData<string> Files() => new(FileNames());

    private static string[] FileNames() => Directory.GetFiles(ExperimentsDirectory(), "*.json").Select(f => Path.GetFileName(f)).Order().ToArray();

    [Fact]
    public void EveryExperimentFileIsCovered()
    {
        Assert.Equal(5, FileNames().Length);
        foreach (var name in FileNames())
        {
            Assert.True(File.Exists(YamlTwin(name)), $"{name} has no YAML twin");
            Assert.True(File.Exists(Before(name)), $"{name} has no record of what it loaded to before");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EachFileLoadsToTheConfigurationItGaveBefore(string name)
    {
        var loaded = Load(Path.Combine(ExperimentsDirectory(), name));
        var before = JsonNode.Parse(File.ReadAllText(Before(name)))!;
        var now = JsonSerializer.SerializeToNode(loaded, loaded.GetType(), DumpOptions)!;
        if (loaded is DisCoExperimentConfig experiment)
        {
            // Two deliberate changes of shape: an absent budget is now null (it means all_submodels, which
            // the old record spelt out), and the device classes' report names are no longer file fields.
            now["DenseUpcycling"]!["Budget"] = experiment.DenseUpcycling.ResolvedBudget.ToString();
            now["Prices"]!["LowCost"]!["Name"] = experiment.Prices.LowCost.Name;
            now["Prices"]!["HighMemory"]!["Name"] = experiment.Prices.HighMemory.Name;
        }
        // Every value the old loader gave is the same now; fields added since may be present too.
        AssertContains(before, now, "");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EachFilesYamlTwinLoadsToAnEqualRecord(string name)
    {
        var json = Load(Path.Combine(ExperimentsDirectory(), name));
        var yaml = Load(YamlTwin(name));
        Assert.Equal(json, yaml);
        Assert.Equal(Canonical(json), Canonical(yaml));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EachFilesCanonicalFormReadsBackToAnEqualRecord(string name)
    {
        var loaded = Load(Path.Combine(ExperimentsDirectory(), name));
        var canonical = Canonical(loaded);
        var again = Schema(name).Parse(canonical, "canonical.json");
        Assert.Equal(loaded, again);
        Assert.Equal(canonical, Canonical(again));
    }

    private static object Load(string path) => Schema(path).Parse(File.ReadAllText(path), path);

    private static IConfigSchema Schema(string path) =>
        path.Contains(".model.") ? ModelConfigLoader.Schema
        : path.Contains(".training.") ? TrainingConfigLoader.Schema
        : DisCoExperimentLoader.Schema;

    private static string Canonical(object value) => value switch
    {
        ModelConfig m => ModelConfigLoader.Schema.ToCanonicalJson(m),
        TrainingConfig t => TrainingConfigLoader.Schema.ToCanonicalJson(t),
        DisCoExperimentConfig e => DisCoExperimentLoader.ToCanonicalJson(e),
        _ => throw new ArgumentException(value.GetType().Name),
    };

    private static void AssertContains(JsonNode? expected, JsonNode? actual, string path)
    {
        if (expected is JsonObject e)
        {
            var a = Assert.IsType<JsonObject>(actual);
            foreach (var (key, value) in e) AssertContains(value, a[key], $"{path}.{key}");
            return;
        }
        Assert.True(expected?.ToJsonString() == actual?.ToJsonString(), $"{path}: {expected?.ToJsonString() ?? "null"} before, {actual?.ToJsonString() ?? "null"} now");
    }

    private static string YamlTwin(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "yaml", Path.ChangeExtension(name, ".yaml"));

    private static string Before(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "experiments", Path.ChangeExtension(name, ".loaded.json"));

    internal static string ExperimentsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "experiments");
            if (File.Exists(Path.Combine(path, "disco-demo.json"))) return path;
        }
        throw new DirectoryNotFoundException("experiments/ not found above the test directory");
    }
}
