using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Training.Config;

/// <summary>A training configuration that cannot be used; <see cref="Problems"/> lists every problem found, not just the first.</summary>
public sealed class TrainingConfigException : Exception
{
    public TrainingConfigException(string source, IReadOnlyList<ConfigProblem> problems)
        : base(Format(source, problems))
    {
        Source = source;
        Problems = problems;
    }

    /// <summary>Where the configuration came from: a file path, or a description for configurations built in code.</summary>
    public new string Source { get; }

    public IReadOnlyList<ConfigProblem> Problems { get; }

    private static string Format(string source, IReadOnlyList<ConfigProblem> problems)
    {
        var noun = problems.Count == 1 ? "problem" : "problems";
        return $"{source}: {problems.Count} {noun} in the training configuration:{Environment.NewLine}" +
               string.Join(Environment.NewLine, problems.Select(p => $"  - {p}"));
    }
}
