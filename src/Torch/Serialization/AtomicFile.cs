namespace Orleans.MoE.Torch.Serialization;

/// <summary>Writes a file so that readers see either the old content or the complete new content.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes to a temporary file beside the target, flushes it to the disk, then renames it over the
    /// target. If writing fails, the temporary file is removed and the target is untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { /* best effort: the target is intact either way */ }
            throw;
        }
    }
}
