using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Training.DisCo;

/// <summary>An experiment file that cannot be run; <see cref="Problems"/> lists every problem, each under its field path.</summary>
public sealed class DisCoExperimentException(string source, IReadOnlyList<ConfigProblem> problems)
    : Exception($"{source}: {problems.Count} problem{(problems.Count == 1 ? "" : "s")} in the experiment file:{Environment.NewLine}" +
                string.Join(Environment.NewLine, problems.Select(p => $"  - {p}")))
{
    public IReadOnlyList<ConfigProblem> Problems { get; } = problems;
}
