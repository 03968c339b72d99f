namespace Orleans.MoE.Config;

/// <summary>
/// Collects the problems of one configuration, from reading it and from its validators. A field
/// with a problem is remembered, so a rule that depends on it (or on a parent of it) is skipped rather
/// than reported a second time with a placeholder or already-wrong value. A validator of a section
/// (the model of an experiment) writes through <see cref="Under"/>, which prefixes its paths.
/// </summary>
public sealed class ConfigProblems
{
    private readonly Shared _shared;
    private readonly string _prefix;

    public ConfigProblems() : this(new Shared(), "")
    {
    }

    private ConfigProblems(Shared shared, string prefix)
    {
        _shared = shared;
        _prefix = prefix;
    }

    /// <summary>Every problem so far, under its full path, in the order found.</summary>
    public IReadOnlyList<ConfigProblem> List => _shared.Problems;

    public int Count => _shared.Problems.Count;

    /// <summary>The same collection, seen from a section: paths given to it are relative to <paramref name="section"/>.</summary>
    public ConfigProblems Under(string section) => new(_shared, Join(_prefix, section));

    /// <summary>Records a problem.</summary>
    public void Add(string path, string message)
    {
        var full = Join(_prefix, path);
        _shared.Problems.Add(new ConfigProblem(full, message));
        _shared.Flawed.Add(full);
    }

    /// <summary>
    /// Records a broken rule, unless the field, one it depends on, or a parent of either, already has a
    /// problem (then the rule's premise is unknown or already reported).
    /// </summary>
    public void Check(bool ok, string path, string message, params string[] dependsOn)
    {
        if (ok || HasProblem(path) || dependsOn.Any(HasProblem)) return;
        Add(path, message);
    }

    /// <summary>True when the field (relative to this view) or one of its parents has a problem.</summary>
    public bool HasProblem(string path)
    {
        for (var p = Join(_prefix, path); p.Length > 0; p = Parent(p))
        {
            if (_shared.Flawed.Contains(p)) return true;
        }
        return false;
    }

    /// <summary>Throws a <see cref="ConfigException"/> when any problem was recorded.</summary>
    public void ThrowIfAny(string origin, string description)
    {
        if (Count > 0) throw new ConfigException(origin, description, List);
    }

    internal static string Join(string parent, string name) =>
        parent.Length == 0 ? name : name.Length == 0 ? parent : name.StartsWith('[') ? parent + name : $"{parent}.{name}";

    private static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut < 0 ? "" : path[..cut];
    }

    private sealed class Shared
    {
        public List<ConfigProblem> Problems { get; } = [];

        public HashSet<string> Flawed { get; } = new(StringComparer.Ordinal);
    }
}
