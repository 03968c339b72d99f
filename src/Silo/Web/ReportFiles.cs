namespace Orleans.MoE.Silo.Web;

/// <summary>
/// Which files the web view serves: only HTML reports inside the artifact store's experiment
/// directories. A path that leaves the store (<c>..</c>, absolute, a link target elsewhere) is refused.
/// </summary>
public static class ReportFiles
{
    /// <summary>The full path of <paramref name="relative"/> under <paramref name="artifactRoot"/>, or null when it may not be served.</summary>
    public static string? Resolve(string artifactRoot, string relative)
    {
        if (string.IsNullOrEmpty(relative) || Path.IsPathRooted(relative) || relative.Contains('\\')) return null;
        var root = Path.GetFullPath(artifactRoot).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (!full.StartsWith(root, StringComparison.Ordinal)) return null;
        // An experiment's directory, then the file: nothing at the store's top level (grain state, settings).
        if (!Path.GetRelativePath(root, full).Contains(Path.DirectorySeparatorChar)) return null;
        if (!full.EndsWith(".html", StringComparison.OrdinalIgnoreCase) || !File.Exists(full)) return null;
        // A symbolic link could point outside the store; its target must stay inside too.
        if (new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target && !target.FullName.StartsWith(root, StringComparison.Ordinal)) return null;
        return full;
    }
}
