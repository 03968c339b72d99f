using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Training.Config;

/// <summary>
/// Problems found in a training file. A path that could not be read is remembered, so that checks
/// depending on it are skipped instead of reporting its placeholder value a second time.
/// </summary>
internal sealed class ConfigProblems
{
    private readonly List<ConfigProblem> _problems = [];
    private readonly HashSet<string> _unreadable = new(StringComparer.Ordinal);

    public IReadOnlyList<ConfigProblem> List => _problems;

    public int Count => _problems.Count;

    /// <summary>A field that could not be read (missing, wrong type, unknown).</summary>
    public void Unreadable(string path, string message)
    {
        _problems.Add(new ConfigProblem(path, message));
        _unreadable.Add(path);
    }

    /// <summary>Records a broken rule unless the field, one it depends on, or a parent of either, was unreadable.</summary>
    public void Check(bool ok, string path, string message, params string[] dependsOn)
    {
        if (ok || IsUnreadable(path) || dependsOn.Any(IsUnreadable)) return;
        _problems.Add(new ConfigProblem(path, message));
    }

    private bool IsUnreadable(string path)
    {
        for (var p = path; p.Length > 0; p = p.LastIndexOf('.') is var dot and >= 0 ? p[..dot] : "")
        {
            if (_unreadable.Contains(p)) return true;
        }
        return false;
    }
}
