using System.Globalization;

namespace Orleans.MoE.Grains.Jobs;

/// <summary>
/// The attempts of a job that its experiment directory records: the silo's supervisor makes
/// <c>jobs/NAME/attempt-N/</c> before attempt N's worker starts, and a rank of a group's attempt A is
/// the job <c>GROUP-aA-rR</c>. A job owner whose grain state is new (first run, or the cluster's storage
/// lost its data) numbers its attempts above these, so that its first attempt is above every checkpoint
/// fence (<c>attempt.fence</c>) an earlier attempt claimed, and a zombie of an earlier attempt stays
/// refused.
/// </summary>
internal static class RecordedAttempts
{
    /// <summary>The highest N of <c>jobs/JOB/attempt-N</c> in the experiment directory, or 0 when there is none.</summary>
    public static int HighestOf(string experimentDirectory, string job) =>
        Highest(Path.Combine(experimentDirectory, "jobs", job), "attempt-", suffix: null);

    /// <summary>The highest group attempt A of the ranks <c>jobs/GROUP-aA-rR</c> in the experiment directory, or 0 when there is none.</summary>
    public static int HighestGroupAttemptOf(string experimentDirectory, string group) =>
        Highest(Path.Combine(experimentDirectory, "jobs"), group + "-a", suffix: "-r");

    /// <summary>The highest number N among the directory's subdirectories named PREFIX + N (+ SUFFIX + anything).</summary>
    private static int Highest(string directory, string prefix, string? suffix)
    {
        if (!Directory.Exists(directory)) return 0;
        var highest = 0;
        foreach (var path in Directory.EnumerateDirectories(directory, prefix + "*"))
        {
            var rest = Path.GetFileName(path)[prefix.Length..];
            if (suffix is not null)
            {
                var end = rest.IndexOf(suffix, StringComparison.Ordinal);
                if (end < 0) continue;
                rest = rest[..end];
            }
            if (int.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) highest = Math.Max(highest, n);
        }
        return highest;
    }
}
