namespace Orleans.MoE.Config;

/// <summary>The syntax of a configuration file; both describe the same fields.</summary>
public enum ConfigFormat
{
    Json,
    Yaml,
}

public static class ConfigFormats
{
    /// <summary>YAML for <c>.yaml</c> and <c>.yml</c> files, JSON for everything else (<c>.json</c>, or text without a file name).</summary>
    public static ConfigFormat Of(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".yaml" or ".yml" ? ConfigFormat.Yaml : ConfigFormat.Json;
}
