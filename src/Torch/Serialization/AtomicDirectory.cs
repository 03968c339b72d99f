namespace Orleans.MoE.Torch.Serialization;

/// <summary>
/// Builds a directory under a temporary name beside the target and renames it into place when
/// complete, so the target is either the old complete directory or the new complete one.
/// </summary>
public static class AtomicDirectory
{
    public static void Write(string target, Action<string> build)
    {
        var full = Path.GetFullPath(target);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var temporary = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temporary);
        try
        {
            build(temporary);
            if (Directory.Exists(full))
            {
                var old = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.old");
                Directory.Move(full, old);
                Directory.Move(temporary, full);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temporary, full);
            }
        }
        catch
        {
            try { Directory.Delete(temporary, recursive: true); } catch (IOException) { /* best effort; the target is intact */ }
            throw;
        }
    }
}
