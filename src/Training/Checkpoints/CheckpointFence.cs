using System.Globalization;
using System.Text;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Training.Checkpoints;

/// <summary>
/// A run directory's record of the newest attempt that trains in it (<c>attempt.fence</c>), so that an
/// older attempt still alive somewhere (a zombie worker, a duplicate activation's job) cannot commit a
/// checkpoint over the newer one's: each attempt claims the fence when it starts, and every
/// checkpoint commit checks, just before its rename, that the fence still names its attempt.
/// </summary>
public sealed class CheckpointFence
{
    public const string FileName = "attempt.fence";

    private readonly string _path;

    private CheckpointFence(string path, long attempt)
    {
        _path = path;
        Attempt = attempt;
    }

    public long Attempt { get; }

    /// <summary>Claims the run directory for the attempt; an attempt older than the one that claimed it last is refused.</summary>
    public static CheckpointFence Claim(string runDirectory, long attempt)
    {
        Directory.CreateDirectory(runDirectory);
        var fence = new CheckpointFence(Path.Combine(runDirectory, FileName), attempt);
        if (fence.Holder() is { } newer && newer > attempt)
            throw new StaleAttemptException($"{runDirectory}: attempt {attempt} is stale, attempt {newer} trains in this run directory now");
        AtomicFile.Write(fence._path, s => s.Write(Encoding.ASCII.GetBytes(attempt.ToString(CultureInfo.InvariantCulture))));
        return fence;
    }

    /// <summary>Throws when a newer attempt has claimed the run directory since this one did.</summary>
    public void Check()
    {
        if (Holder() is { } holder && holder != Attempt)
            throw new StaleAttemptException($"{Path.GetDirectoryName(_path)}: checkpoint of attempt {Attempt} refused, attempt {holder} trains here now");
    }

    private long? Holder() =>
        File.Exists(_path) && long.TryParse(File.ReadAllText(_path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var holder) ? holder : null;
}

/// <summary>An older attempt of a job tried to act in a place a newer attempt owns.</summary>
public sealed class StaleAttemptException(string message) : Exception(message);
