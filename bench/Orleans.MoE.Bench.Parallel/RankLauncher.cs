using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;

namespace Orleans.MoE.Bench.Parallel;

/// <summary>
/// Starts the P rank processes of one setting (this program with rank arguments, inside the rank's
/// namespace when there is one), with one OpenMP/BLAS thread each, collects their result lines, and
/// makes sure none outlives the setting: a rank that fails gives the others a short grace period to
/// report the failure, then every rank still running is killed. <see cref="KillAll"/> is also what the
/// signal handler calls.
/// </summary>
internal sealed class RankLauncher
{
    private static readonly TimeSpan GraceAfterFailure = TimeSpan.FromSeconds(20);
    private readonly List<Process> _processes = [];
    private readonly ConcurrentQueue<(int Rank, string Line)> _lines = new();
    private readonly ConcurrentDictionary<int, ConcurrentQueue<string>> _stderr = new();

    /// <summary>Runs the ranks to the end; returns every result line with its rank, or throws naming the failed ranks with their last errors.</summary>
    public IReadOnlyList<(int Rank, string Line)> Run(IReadOnlyList<RankOptions> ranks, bool inNamespaces, TimeSpan limit)
    {
        try
        {
            for (var r = 0; r < ranks.Count; r++) Start(r, ranks[r], inNamespaces);
            var deadline = DateTime.UtcNow + limit;
            DateTime? failedAt = null;
            while (_processes.Any(p => !p.HasExited))
            {
                Thread.Sleep(100);
                if (failedAt is null && _processes.Any(p => p.HasExited && p.ExitCode != 0)) failedAt = DateTime.UtcNow;
                if (DateTime.UtcNow > deadline || DateTime.UtcNow - failedAt > GraceAfterFailure) break;
            }
            var timedOut = _processes.Any(p => !p.HasExited);
            KillAll();
            foreach (var p in _processes) p.WaitForExit();   // drains the output readers
            var failed = _processes.Select((p, r) => (p, r)).Where(x => x.p.ExitCode != 0).Select(x => x.r).ToArray();
            if (failed.Length > 0 || timedOut)
            {
                var detail = string.Join("\n", failed.Select(r => $"  rank {r} (exit {_processes[r].ExitCode}): {LastErrors(r)}"));
                throw new InvalidOperationException((timedOut ? $"the ranks did not finish within {limit.TotalSeconds:F0} s" : "ranks failed")
                    + (detail.Length > 0 ? "\n" + detail : ""));
            }
            return _lines.ToArray();
        }
        finally
        {
            KillAll();
            foreach (var p in _processes) p.Dispose();
        }
    }

    /// <summary>Kills every rank process this launcher started that is still running (by its own handle).</summary>
    public void KillAll()
    {
        lock (_processes)
        {
            foreach (var p in _processes)
            {
                try
                {
                    if (!p.HasExited) p.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // exited meanwhile
                }
            }
        }
    }

    private void Start(int rank, RankOptions options, bool inNamespace)
    {
        string[] command = [.. SelfCommand(), .. options.ToArgs()];
        if (inNamespace) command = NetworkTopology.InRankNamespace(rank, command);
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,   // never written: the rank exits when it closes (see RankWorker)
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in command.Skip(1)) start.ArgumentList.Add(a);
        foreach (var v in new[] { "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS" })
            start.Environment[v] = options.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = new Process { StartInfo = start };
        var errors = _stderr.GetOrAdd(rank, _ => new ConcurrentQueue<string>());
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && RankLine.Parse(line) is not null) _lines.Enqueue((rank, line));
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            errors.Enqueue(line);
            while (errors.Count > 20) errors.TryDequeue(out string? _);
        };
        lock (_processes)
        {
            process.Start();
            _processes.Add(process);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private string LastErrors(int rank) =>
        _stderr.TryGetValue(rank, out var q) && !q.IsEmpty ? string.Join("\n    ", q.TakeLast(6)) : "(no error output)";

    /// <summary>This program: the apphost, or `dotnet` with the assembly.</summary>
    private static string[] SelfCommand()
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("the benchmark's own executable path is unknown");
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, Assembly.GetEntryAssembly()!.Location] : [host];
    }
}
