using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Training.Checkpoints;

/// <summary>
/// Checkpoints of one run, as directories <c>step-00000100/</c> under a root, each holding
/// safetensors files (by name, e.g. model, optimizer) and manifest.json.
/// <para>
/// A checkpoint is assembled in a hidden temporary directory, every file flushed to disk, the
/// manifest (with the SHA-256 of every tensor file) written last, and the directory renamed into
/// place: a crash leaves either the previous checkpoints or the complete new one. Only the newest
/// <see cref="Keep"/> checkpoints are kept, and older ones are removed only after a new one is in place.
/// </para>
/// <para>
/// A damaged checkpoint never blocks a resume while an older one is intact:
/// <see cref="LatestVerified"/> passes over the damaged ones, and <see cref="MoveAside"/> renames them
/// to <c>step-00000100.damaged</c> (never deleted) so that they no longer shadow the intact one. The
/// temporary directories a killed writer leaves behind are removed by <see cref="RemoveStaleTemporaries"/>.
/// </para>
/// </summary>
public sealed class CheckpointStore(string root, int keep = 3)
{
    public const string ManifestFile = "manifest.json";
    public const string DamagedSuffix = ".damaged";
    private const string Prefix = "step-";

    public string Root { get; } = root;

    public int Keep { get; } = keep >= 1 ? keep : throw new ArgumentOutOfRangeException(nameof(keep), "keep at least one checkpoint");

    /// <summary>When set, a checkpoint is committed only while the fence names this store's attempt.</summary>
    public CheckpointFence? Fence { get; set; }

    /// <summary>Writes a checkpoint for manifest.Step and returns its directory.</summary>
    public string Save(CheckpointManifest manifest, IReadOnlyDictionary<string, IReadOnlyDictionary<string, Tensor>> tensorFiles)
    {
        var final = DirectoryFor(manifest.Step);
        AtomicDirectory.Write(final, directory =>
        {
            var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, tensors) in tensorFiles)
            {
                var file = FileName(name);
                var path = Path.Combine(directory, file);
                SafeTensors.Save(path, tensors);
                hashes[file] = Sha256(path);
            }
            var complete = manifest with { FileHashes = hashes, CreatedUtc = manifest.CreatedUtc == default ? DateTime.UtcNow : manifest.CreatedUtc };
            AtomicFile.Write(Path.Combine(directory, ManifestFile),
                stream => JsonSerializer.Serialize(stream, complete, CheckpointManifest.Json));
            Fence?.Check();   // last, just before the rename commits it
        });
        Prune();
        return final;
    }

    /// <summary>Steps of the complete checkpoints present (with a manifest), oldest first.</summary>
    public IReadOnlyList<long> Steps()
    {
        if (!Directory.Exists(Root)) return [];
        return Directory.EnumerateDirectories(Root, Prefix + "*")
            .Select(d => (Dir: d, Ok: long.TryParse(Path.GetFileName(d)[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var s), Step: s))
            .Where(x => x.Ok && File.Exists(Path.Combine(x.Dir, ManifestFile)))
            .Select(x => x.Step)
            .Order()
            .ToList();
    }

    public long? LatestStep => Steps() is { Count: > 0 } steps ? steps[^1] : null;

    /// <summary>
    /// The newest checkpoint that verifies (see <see cref="ReadManifest"/>), with the newer ones that
    /// did not and why; null when there is no checkpoint. When checkpoints exist but none verifies,
    /// the newest one's <see cref="CheckpointCorruptException"/> is thrown. Reads only: nothing is moved.
    /// </summary>
    public VerifiedCheckpoint? LatestVerified()
    {
        var skipped = new List<SkippedCheckpoint>();
        CheckpointCorruptException? newestProblem = null;
        foreach (var step in Steps().Reverse())
        {
            try
            {
                return new VerifiedCheckpoint(step, ReadManifest(step), skipped);
            }
            catch (CheckpointCorruptException e)
            {
                newestProblem ??= e;
                skipped.Add(new SkippedCheckpoint(step, DirectoryFor(step), e.Message));
            }
        }
        return newestProblem is null ? null : throw newestProblem;
    }

    /// <summary>
    /// Renames a damaged checkpoint's directory to <c>step-NNNNNNNN.damaged</c> (with a number added
    /// when that name is taken), where <see cref="Steps"/> no longer sees it, and returns the new path.
    /// </summary>
    public string MoveAside(long step)
    {
        var directory = DirectoryFor(step);
        var target = directory + DamagedSuffix;
        for (var n = 2; Directory.Exists(target) || File.Exists(target); n++) target = $"{directory}{DamagedSuffix}-{n}";
        Directory.Move(directory, target);
        return target;
    }

    /// <summary>
    /// Removes the temporary directories (<c>.step-NNNNNNNN.*.tmp</c>) of checkpoint writes that never
    /// completed, as a process killed during a write leaves them. Call it when a run starts, before
    /// it writes checkpoints; returns the directories removed.
    /// </summary>
    public IReadOnlyList<string> RemoveStaleTemporaries()
    {
        if (!Directory.Exists(Root)) return [];
        var removed = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories(Root, "." + Prefix + "*.tmp").Order(StringComparer.Ordinal))
        {
            if (TryDelete(directory)) removed.Add(directory);
        }
        return removed;
    }

    /// <summary>
    /// Reads and verifies a checkpoint: the manifest parses, every listed file exists and has its
    /// recorded hash. Returns the manifest; tensors are read with <see cref="LoadTensors"/>.
    /// </summary>
    public CheckpointManifest ReadManifest(long step)
    {
        var dir = DirectoryFor(step);
        var manifestPath = Path.Combine(dir, ManifestFile);
        if (!File.Exists(manifestPath))
            throw new CheckpointCorruptException(manifestPath, "missing: the checkpoint is incomplete");
        CheckpointManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(manifestPath), CheckpointManifest.Json);
        }
        catch (JsonException e)
        {
            throw new CheckpointCorruptException(manifestPath, $"not valid JSON ({e.Message})");
        }
        if (manifest is null) throw new CheckpointCorruptException(manifestPath, "empty manifest");
        if (manifest.Format != CheckpointManifest.CurrentFormat)
            throw new CheckpointCorruptException(manifestPath, $"format {manifest.Format} is not supported (this build reads format {CheckpointManifest.CurrentFormat})");
        if (manifest.Step != step)
            throw new CheckpointCorruptException(manifestPath, $"records step {manifest.Step} but lives in the directory of step {step}");
        foreach (var (file, expected) in manifest.FileHashes)
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path)) throw new CheckpointCorruptException(path, "missing, but listed in the manifest");
            var actual = Sha256(path);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new CheckpointCorruptException(path, $"content hash {actual} does not match the manifest's {expected} (the file was changed or damaged)");
        }
        return manifest;
    }

    /// <summary>The tensors of one file of a checkpoint; the caller owns them.</summary>
    public Dictionary<string, Tensor> LoadTensors(long step, string name) =>
        SafeTensors.Load(Path.Combine(DirectoryFor(step), FileName(name))).Tensors;

    public string DirectoryFor(long step) => Path.Combine(Root, Prefix + step.ToString("D8", CultureInfo.InvariantCulture));

    private static string FileName(string name) => name + ".safetensors";

    private void Prune()
    {
        var steps = Steps();
        foreach (var step in steps.Take(Math.Max(0, steps.Count - Keep))) _ = TryDelete(DirectoryFor(step));
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    private static bool TryDelete(string directory)
    {
        try
        {
            if (!Directory.Exists(directory)) return false;
            Directory.Delete(directory, recursive: true);
            return true;
        }
        catch (IOException)
        {
            // Leftovers are hidden (temporary) or old; they never shadow a complete checkpoint.
            return false;
        }
    }
}
