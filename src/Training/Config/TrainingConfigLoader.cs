using System.Text.Json.Nodes;
using Orleans.MoE.Config;
using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Training.Config;

/// <summary>
/// Reads a <see cref="TrainingConfig"/> from a JSON or YAML training file (by extension) and validates
/// it with <see cref="TrainingConfigValidator"/>. Every problem is reported at once in a
/// <see cref="ConfigException"/>, under its field path with the fix; unknown fields are problems too,
/// so a typo never falls back to a default silently.
/// </summary>
public static class TrainingConfigLoader
{
    public static ConfigSchema<TrainingConfig> Schema { get; } =
        new("training configuration", "a training file (see experiments/*.training.json)", TrainingConfigValidator.Collect);

    /// <summary>Reads and validates a training file; with <paramref name="model"/>, also checks that the two fit together.</summary>
    public static TrainingConfig LoadFile(string path, ModelConfig? model = null) => Schema.LoadFile(path, WithModel(model));

    /// <summary>Parses and validates; <paramref name="source"/> names the input in error messages (a .yaml or .yml name reads YAML).</summary>
    public static TrainingConfig Parse(string text, string source = "training config", ModelConfig? model = null) =>
        Schema.Parse(text, source, alsoCheck: WithModel(model));

    /// <summary>The configuration as JSON, every field written; <see cref="Parse"/> reads it back to an equal record.</summary>
    public static string ToJson(TrainingConfig config) => Schema.ToJson(config);

    public static JsonObject ToNode(TrainingConfig config) => Schema.ToNode(config);

    private static Action<TrainingConfig, ConfigProblems>? WithModel(ModelConfig? model) =>
        model is null ? null : (config, problems) => TrainingConfigValidator.CollectWithModel(config, model, problems);
}
