namespace Orleans.MoE.Config;

/// <summary>
/// A configuration that cannot be used, from a file or built in code. <see cref="Problems"/> lists
/// every problem found, not just the first, each under its field path.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string origin, string description, IReadOnlyList<ConfigProblem> problems)
        : base(Format(origin, description, problems))
    {
        Origin = origin;
        Description = description;
        Problems = problems;
    }

    /// <summary>Where the configuration came from: a file path, or a description for configurations built in code.</summary>
    public string Origin { get; }

    /// <summary>What kind of configuration it is meant to be ("model configuration", "experiment file").</summary>
    public string Description { get; }

    public IReadOnlyList<ConfigProblem> Problems { get; }

    private static string Format(string origin, string description, IReadOnlyList<ConfigProblem> problems)
    {
        var noun = problems.Count == 1 ? "problem" : "problems";
        return $"{origin}: {problems.Count} {noun} in the {description}:{Environment.NewLine}" +
               string.Join(Environment.NewLine, problems.Select(p => $"  - {p}"));
    }
}
