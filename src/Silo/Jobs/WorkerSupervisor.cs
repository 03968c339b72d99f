using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.MoE.Grains;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Grains.Telemetry;
using Orleans.MoE.Silo.Hosting;
using Orleans.MoE.Silo.Worker;
using Orleans.Runtime;

namespace Orleans.MoE.Silo.Jobs;

/// <summary>
/// This silo's job supervisor: each attempt runs as a child process of this program
/// (<c>moe worker --job FILE</c>) with its slot's share of the cores, and its owner hears about it:
/// started, progress, and how it ended (with the result, or the exit code and the last stderr
/// lines). A worker that stops making progress for the stall timeout is killed and reported as
/// failed. When the silo stops (SIGTERM), every worker is asked to checkpoint and stop first, and
/// their attempts are reported as interrupted, not failed, so they resume elsewhere.
/// </summary>
internal sealed partial class WorkerSupervisor(
    IOptions<MoeSiloOptions> options,
    IOptions<ArtifactStoreOptions> artifacts,
    IGrainFactory grains,
    ILocalSiloDetails silo,
    ILogger<WorkerSupervisor> logger) : IJobSupervisor, IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<(string JobKey, int Attempt), WorkerProcess> _workers = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<JobReport> _ended = [];
    private const int EndedKept = 1000;
    private Timer? _watchdog;

    // The GPU of each running worker of a cuda pool: a job gets a device of its own, one per slot.
    private readonly Dictionary<(string JobKey, int Attempt), int> _gpus = [];

    /// <summary>
    /// The lowest GPU index of a cuda pool that no running worker holds (the pool's devices are this
    /// machine's GPUs 0 to devices - 1); null for a cpu pool. The slot ledger gave the job a free
    /// slot, so one is free unless a stopped worker has not exited yet: then it shares the last one.
    /// </summary>
    private int? GpuFor((string JobKey, int Attempt) key, DevicePool pool)
    {
        if (pool.Kind != "cuda") return null;
        lock (_gpus)
        {
            var index = Enumerable.Range(0, pool.Devices).Where(i => !_gpus.ContainsValue(i)).DefaultIfEmpty(pool.Devices - 1).First();
            _gpus[key] = index;
            return index;
        }
    }

    /// <summary>Whether the attempt's worker runs here now.</summary>
    public bool IsRunning(string jobKey, int attempt) => _workers.ContainsKey((jobKey, attempt));

    public IReadOnlyList<RunningJob> Running =>
        _workers.Values.Select(w => new RunningJob(w.Launch.Request.JobKey, w.Launch.Attempt, w.ProcessId, w.StartedAt)).ToList();

    public Task StartAsync(JobLaunch launch)
    {
        if (_stopping.IsCancellationRequested) throw new InvalidOperationException("this silo is shutting down; place the job elsewhere");
        var key = (launch.Request.JobKey, launch.Attempt);
        if (_workers.ContainsKey(key)) return Task.CompletedTask;

        var experiment = artifacts.Value.PathOf(launch.Request.Directory);
        var attemptDirectory = Path.Combine(experiment, "jobs", launch.Request.Name, $"attempt-{launch.Attempt}");
        var jobFile = Path.Combine(attemptDirectory, "job.json");
        Directory.CreateDirectory(attemptDirectory);
        var gpu = GpuFor(key, launch.Slot.Pool);
        new WorkerJobFile
        {
            JobKey = launch.Request.JobKey, Attempt = launch.Attempt, Phase = launch.Request.Phase, ExperimentDirectory = experiment,
            Threads = launch.Request.Threads ?? launch.Slot.Threads, Arguments = launch.Request.Arguments, TraceParent = launch.TraceParent,
            Device = gpu is { } index ? $"cuda:{index}" : "cpu",
        }.Write(jobFile);

        var worker = new WorkerProcess(launch, StartInfo(jobFile, launch.Request.Threads ?? launch.Slot.Threads),
            Path.Combine(attemptDirectory, "worker.log"), report => launch.Owner.ReportAsync(report));
        _workers[key] = worker;
        var running = new TagList { { "moe.silo", launch.Slot.SiloName }, { "moe.device_class", launch.Slot.Pool.Class } };
        ExperimentTelemetry.JobsRunning.Add(1, running);
        LogStarted(logger, launch.Request.JobKey, launch.Attempt, worker.ProcessId, launch.Request.Threads ?? launch.Slot.Threads);
        _ = worker.Exited.ContinueWith(_ =>
        {
            ExperimentTelemetry.JobsRunning.Add(-1, running);
            if (worker.FinalReport is { } end) Remember(end);
            _workers.TryRemove(key, out var _);
            lock (_gpus) _gpus.Remove(key);
            worker.Dispose();
        }, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    /// <summary>The final report of an attempt that ran here and has ended (kept for the most recent attempts), or null.</summary>
    public Task<JobReport?> FinalReportAsync(string jobKey, int attempt)
    {
        lock (_ended) return Task.FromResult(_ended.FirstOrDefault(r => r.JobKey == jobKey && r.Attempt == attempt));
    }

    private void Remember(JobReport end)
    {
        lock (_ended)
        {
            _ended.Add(end);
            if (_ended.Count > EndedKept) _ended.RemoveAt(0);
        }
    }

    public Task StopAsync(string jobKey, int attempt, string reason)
    {
        if (_workers.TryGetValue((jobKey, attempt), out var worker)) worker.Stop(reason, options.Value.StopGracePeriod);
        return Task.CompletedTask;
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        _watchdog = new Timer(_ => KillStalled(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    /// <summary>The silo is stopping: every worker checkpoints and stops, and its owner learns it was interrupted.</summary>
    async Task IHostedService.StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        var workers = _workers.Values.ToList();
        if (workers.Count == 0) return;
        LogStopping(logger, workers.Count);
        // Before the workers stop: their jobs, interrupted, are placed again at once, and this silo is
        // still an active member with free slots, which would be offered to them.
        try
        {
            await grains.GetGrain<ISlotLedgerGrain>(0).DrainAsync(SiloPinnedPlacement.KeyOf(silo.SiloAddress)).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogDrainFailed(logger, e.Message);   // its jobs still move: a start on this silo is refused, and they are placed again
        }
        foreach (var w in workers) w.Stop("its silo is shutting down", options.Value.StopGracePeriod);
        await Task.WhenAll(workers.Select(w => w.Exited)).WaitAsync(options.Value.StopGracePeriod + TimeSpan.FromSeconds(10), CancellationToken.None)
            .ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private void KillStalled()
    {
        var timeout = options.Value.JobStallTimeout;
        foreach (var w in _workers.Values)
        {
            var limit = w.Launch.Request.StallTimeout ?? timeout;
            if (limit <= TimeSpan.Zero || w.StopReason is not null || DateTimeOffset.UtcNow - w.LastProgress < limit) continue;
            LogStalled(logger, w.Launch.Request.JobKey, w.Launch.Attempt, limit.TotalSeconds);
            w.Stop($"no progress for {limit.TotalSeconds:F0} s (job_stall_timeout)", TimeSpan.FromSeconds(5), isFailure: true);
        }
    }

    /// <summary>This program again, as a worker, with the slot's share of the cores.</summary>
    private ProcessStartInfo StartInfo(string jobFile, int threads)
    {
        var (file, prefix) = WorkerCommandLine.Resolve(options.Value.WorkerCommand);
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in prefix) start.ArgumentList.Add(a);
        foreach (var a in new[] { "worker", "--job", jobFile }) start.ArgumentList.Add(a);
        // The worker's libtorch and .NET size themselves by the processor count they see.
        start.Environment["DOTNET_PROCESSOR_COUNT"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["OMP_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return start;
    }

    public void Dispose()
    {
        _watchdog?.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Started {JobKey} attempt {Attempt} as process {ProcessId} with {Threads} threads")]
    private static partial void LogStarted(ILogger logger, string jobKey, int attempt, int processId, int threads);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo stopping: asking {Count} workers to checkpoint and stop")]
    private static partial void LogStopping(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not tell the slot ledger that this silo takes no more jobs: {Error}")]
    private static partial void LogDrainFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{JobKey} attempt {Attempt} made no progress for {Seconds} s; stopping it as failed")]
    private static partial void LogStalled(ILogger logger, string jobKey, int attempt, double seconds);
}
