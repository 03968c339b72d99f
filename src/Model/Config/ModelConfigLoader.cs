using Orleans.MoE.Config;

namespace Orleans.MoE.Model.Config;

/// <summary>
/// Reads a <see cref="ModelConfig"/> from a JSON or YAML model file (by extension) and validates it
/// with <see cref="ModelConfigValidator"/>. Every problem is reported at once in a
/// <see cref="ConfigException"/>, each under its field path with the bad value and what is allowed;
/// unknown fields are problems too, so a typo never falls back to a default silently.
/// </summary>
public static class ModelConfigLoader
{
    public static ConfigSchema<ModelConfig> Schema { get; } =
        new("model configuration", "a model file (see experiments/*.model.json)", ModelConfigValidator.Collect);

    public static ModelConfig LoadFile(string path) => Schema.LoadFile(path);

    /// <summary>Parses and validates; <paramref name="source"/> names the input in error messages (a .yaml or .yml name reads YAML).</summary>
    public static ModelConfig Parse(string text, string source = "model config") => Schema.Parse(text, source);

    /// <summary>The configuration as JSON, every field written; <see cref="Parse"/> reads it back to an equal record.</summary>
    public static string ToJson(ModelConfig config) => Schema.ToJson(config);
}
