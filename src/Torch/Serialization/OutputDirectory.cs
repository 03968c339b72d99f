using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.MoE.Torch.Serialization;

/// <summary>
/// The rule for every directory a command or job writes: it is written only if it does not exist, is
/// empty, or was written by a writer of the same <see cref="OutputKind"/> (recorded in a marker file,
/// <see cref="MarkerFile"/>, inside it). Anything else is refused before any work starts, unless the
/// caller forces it for a kind that replaces its directory as a whole. An output that is one of the
/// inputs, lies inside one, or contains one is always refused: writing it would change or delete
/// what is being read.
/// <code>
/// var output = OutputDirectory.Claim(path, kind, force, inputs);   // checks only: nothing is written
/// output.Replace(directory => ...);                                // built aside, marker added, renamed into place
/// output.Open();                                                   // or: created in place with its marker
/// </code>
/// </summary>
public sealed class OutputDirectory
{
    public const string MarkerFile = ".moe-output.json";

    private static readonly StringComparison PathComparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private OutputDirectory(string path, OutputKind kind)
    {
        Path = path;
        Kind = kind;
    }

    /// <summary>The full path of the directory.</summary>
    public string Path { get; }

    public OutputKind Kind { get; }

    /// <summary>
    /// Checks that <paramref name="path"/> may be written by a writer of <paramref name="kind"/>, and
    /// throws <see cref="OutputDirectoryException"/> naming the directory and what it holds if not.
    /// Writes nothing.
    /// </summary>
    /// <param name="force">Replace a directory that holds anything else; kinds not replaced as a whole ignore it.</param>
    /// <param name="inputs">Files or directories the writer reads.</param>
    public static OutputDirectory Claim(string path, OutputKind kind, bool force = false, IEnumerable<string>? inputs = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Normalize(path);
        foreach (var input in inputs ?? [])
        {
            var source = Normalize(input);
            if (string.Equals(source, full, PathComparison))
                throw new OutputDirectoryException(full, $"is also an input; write {kind.Description} to another directory");
            if (IsInside(full, source))
                throw new OutputDirectoryException(full, $"lies inside the input {source}; write {kind.Description} outside it");
            if (IsInside(source, full))
                throw new OutputDirectoryException(full, $"contains the input {source}, which writing {kind.Description} here would {(kind.ReplacedAsAWhole ? "delete" : "mix with its output")}; choose a directory outside it");
        }
        if (File.Exists(full))
            throw new OutputDirectoryException(full, $"is a file, not a directory; choose a directory for {kind.Description}");
        if (!Directory.Exists(full)) return new OutputDirectory(full, kind);

        var marker = ReadMarker(full, out var unreadable);
        if (marker?.Name == kind.Name) return new OutputDirectory(full, kind);
        var entries = Directory.EnumerateFileSystemEntries(full)
            .Where(e => System.IO.Path.GetFileName(e) != MarkerFile)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (entries.Count == 0 && marker is null) return new OutputDirectory(full, kind);
        if (marker is null && !unreadable && kind.LegacyEntries.Count > 0 && kind.LegacyEntries.All(e => Exists(System.IO.Path.Combine(full, e))))
            return new OutputDirectory(full, kind);
        if (force && kind.ReplacedAsAWhole) return new OutputDirectory(full, kind);

        var fix = kind.ReplacedAsAWhole ? "choose a new or empty directory, or pass --force to replace it" : "choose a new or empty directory";
        if (marker is not null)
            throw new OutputDirectoryException(full, $"holds {marker.Description}, not {kind.Description}; {fix}");
        var holds = Describe(entries);
        throw new OutputDirectoryException(full, unreadable
            ? $"its marker {MarkerFile} cannot be read, so it is not known to hold {kind.Description} (it holds {holds}); {fix}"
            : $"is not empty and was not written as {kind.Description} (it holds {holds}); {fix}");
    }

    /// <summary>
    /// Builds the directory under a temporary name beside it, adds the marker, and renames it into
    /// place (see <see cref="AtomicDirectory"/>): the directory is the old one or the complete new one.
    /// </summary>
    public void Replace(Action<string> build) =>
        AtomicDirectory.Write(Path, directory =>
        {
            build(directory);
            WriteMarker(directory);
        });

    /// <summary>Creates the directory if needed and marks it, for writers that add to their directory.</summary>
    public void Open()
    {
        Directory.CreateDirectory(Path);
        if (ReadMarker(Path, out _)?.Name != Kind.Name) WriteMarker(Path);
    }

    /// <summary>The kind recorded in a directory's marker, or null when it has none (or none that can be read).</summary>
    public static OutputKind? KindOf(string directory) => ReadMarker(Normalize(directory), out _);

    private void WriteMarker(string directory)
    {
        var marker = new JsonObject
        {
            ["kind"] = Kind.Name,
            ["description"] = Kind.Description,
            ["created_utc"] = DateTime.UtcNow.ToString("O"),
        };
        AtomicFile.Write(System.IO.Path.Combine(directory, MarkerFile),
            stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(marker.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n")));
    }

    private static OutputKind? ReadMarker(string directory, out bool unreadable)
    {
        unreadable = false;
        var path = System.IO.Path.Combine(directory, MarkerFile);
        if (!File.Exists(path)) return null;
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is JsonObject o && o["kind"]?.GetValue<string>() is { Length: > 0 } name)
                return new OutputKind(name, o["description"]?.GetValue<string>() ?? $"a '{name}' directory", [], false);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // Falls through: a marker that cannot be read proves nothing.
        }
        unreadable = true;
        return null;
    }

    private static string Describe(List<string> entries)
    {
        var names = entries.Take(3).Select(e => System.IO.Path.GetFileName(e) + (Directory.Exists(e) ? "/" : "")).ToList();
        var more = entries.Count - names.Count;
        return string.Join(", ", names) + (more > 0 ? $" and {more} more" : "");
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    private static string Normalize(string path) => System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));

    /// <summary>Whether <paramref name="path"/> lies strictly inside <paramref name="directory"/>.</summary>
    private static bool IsInside(string path, string directory)
    {
        var prefix = System.IO.Path.EndsInDirectorySeparator(directory) ? directory : directory + System.IO.Path.DirectorySeparatorChar;
        return path.Length > prefix.Length && path.StartsWith(prefix, PathComparison);
    }
}
