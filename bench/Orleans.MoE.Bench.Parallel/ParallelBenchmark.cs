using System.Runtime.InteropServices;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Bench.Parallel;

/// <summary>
/// The coordinator: for every link setting and world size, builds the namespaces if the setting needs
/// them, runs the P ranks, prints the row, and removes the namespaces again, also when a setting fails
/// and when the run is interrupted (SIGINT, SIGTERM, SIGHUP: the ranks are killed, then the namespaces
/// deleted). Namespaces left by a run that was killed outright are removed at the next start. Without
/// root, or when `ip netns` does not work, it says why and runs the loopback setting only.
/// </summary>
internal sealed class ParallelBenchmark : IDisposable
{
    private readonly BenchOptions _options;
    private readonly ParallelReport _report;
    private readonly TextWriter _output;
    private readonly List<PosixSignalRegistration> _signals = [];
    private readonly object _lock = new();
    private RankLauncher? _launcher;
    private NetworkTopology? _topology;
    private volatile bool _interrupted;

    public ParallelBenchmark(BenchOptions options, TextWriter output)
    {
        _options = options;
        _output = output;
        _report = new ParallelReport(output);
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            _signals.Add(PosixSignalRegistration.Create(signal, _ =>
            {
                _interrupted = true;
                CleanUp();
            }));
    }

    public int Run()
    {
        var settings = _options.Settings.ToList();
        string? namespaceNote = null;
        if (settings.Any(s => s.Namespaces))
        {
            var why = NetworkTopology.Unavailable();
            if (why is not null)
            {
                settings.RemoveAll(s => s.Namespaces);
                if (settings.Count == 0) settings.Add(LinkSetting.Loopback);
                namespaceNote = $"limited links skipped: {why}; running loopback only";
            }
            else
            {
                var stale = NetworkTopology.RemoveStale();
                if (stale.Count > 0) namespaceNote = $"removed namespaces left by an earlier run: {string.Join(", ", stale)}";
            }
        }

        _report.Header(
        [
            ("libtorch", TorchRuntime.Version),
            ("cpu count", Environment.ProcessorCount.ToString()),
            ("load average (1 min) at start", LoadAverage()),
            ("ranks", "one process each, 1 OpenMP/BLAS thread, gloo over TCP"),
            ("global batch", $"{_options.Batch} x {BenchModels.SequenceLength} tokens per step, split over the P ranks"),
            ("repetitions", $"{_options.Warmup} warm-up + {_options.Reps} timed steps per model, HP and EP alternating"),
            ("models", BenchModels.Describe(_options.TopK)),
            .. namespaceNote is null ? Array.Empty<(string, string)>() : [("note", namespaceNote)],
        ]);

        var results = new List<SettingResult>();
        var failures = 0;
        foreach (var setting in settings)
        {
            foreach (var p in _options.WorldSizes)
            {
                if (p == 1 && setting.Namespaces) continue;   // one rank has no link to limit
                try
                {
                    var result = RunSetting(setting, p);
                    results.Add(result);
                    _report.Row(result);
                }
                catch (InvalidOperationException) when (_interrupted)
                {
                    _output.WriteLine("  interrupted: ranks stopped, network namespaces removed");
                    return 130;
                }
                catch (InvalidOperationException e)
                {
                    failures++;
                    _report.Failed(setting, p, e.Message);
                }
            }
        }
        _report.Notes(results);
        _output.WriteLine($"  load average (1 min) at end: {LoadAverage()}");
        return failures == 0 ? 0 : 1;
    }

    private SettingResult RunSetting(LinkSetting setting, int worldSize)
    {
        var launcher = new RankLauncher();
        try
        {
            string rendezvous;
            Func<int, string> bind;
            if (setting.Namespaces)
            {
                var topology = NetworkTopology.Create(worldSize, setting.Megabits);
                lock (_lock) _topology = topology;
                rendezvous = $"{NetworkTopology.RankAddress(0)}:29500";
                bind = NetworkTopology.RankAddress;
            }
            else
            {
                rendezvous = $"127.0.0.1:{RendezvousAddress.FreeLocalPort()}";
                bind = _ => "127.0.0.1";
            }
            lock (_lock) _launcher = launcher;
            var ranks = Enumerable.Range(0, worldSize).Select(r => new RankOptions(r, worldSize, rendezvous, bind(r), _options.TopK,
                _options.Batch, _options.Warmup, _options.Reps, Threads: 1, _options.TimeoutSeconds)).ToArray();
            var lines = launcher.Run(ranks, setting.Namespaces, TimeSpan.FromSeconds(_options.TimeoutSeconds * 2));
            return SettingResult.From(setting, worldSize, lines);
        }
        finally
        {
            CleanUp();
        }
    }

    /// <summary>Kills the running ranks, then removes the namespaces. Safe to call from a signal handler and twice.</summary>
    private void CleanUp()
    {
        RankLauncher? launcher;
        NetworkTopology? topology;
        lock (_lock)
        {
            (launcher, topology) = (_launcher, _topology);
            (_launcher, _topology) = (null, null);
        }
        launcher?.KillAll();
        if (topology is not null)
        {
            Thread.Sleep(200);   // the killed ranks leave their namespaces
            topology.Dispose();
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    public void Dispose()
    {
        CleanUp();
        foreach (var s in _signals) s.Dispose();
    }
}
