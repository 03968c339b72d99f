namespace Orleans.MoE.Model.Config;

/// <summary>
/// Problems collected while reading and validating a configuration. Paths that could not be read are
/// remembered, so that checks depending on them are skipped rather than reported a second time with a
/// misleading placeholder value.
/// </summary>
internal sealed class ConfigProblemList
{
    private readonly List<ConfigProblem> _problems = [];
    private readonly HashSet<string> _unreadable = new(StringComparer.Ordinal);

    public IReadOnlyList<ConfigProblem> Problems => _problems;

    public int Count => _problems.Count;

    public void Add(string path, string message)
    {
        _problems.Add(new ConfigProblem(path, message));
        _unreadable.Add(path);
    }

    /// <summary>Records a problem unless one of the paths the check depends on (or a parent of one) was unreadable.</summary>
    public void Check(bool ok, string path, string message, params string[] dependsOn)
    {
        if (ok) return;
        if (IsUnreadable(path) || dependsOn.Any(IsUnreadable)) return;
        _problems.Add(new ConfigProblem(path, message));
    }

    private bool IsUnreadable(string path)
    {
        for (var p = path; p.Length > 0; p = Parent(p))
        {
            if (_unreadable.Contains(p)) return true;
        }
        return false;
    }

    private static string Parent(string path)
    {
        var dot = path.LastIndexOf('.');
        return dot < 0 ? "" : path[..dot];
    }
}
