using System.Diagnostics;
using System.Text.Json.Nodes;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Silo.Worker;

namespace Orleans.MoE.Silo.Jobs;

/// <summary>
/// One running attempt: the worker process, its log file, the last lines of its stderr, and the
/// time of its last progress. It turns what the worker says into <see cref="JobReport"/>s, in order.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private const int StderrLinesKept = 20;

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Queue<string> _stderr = new();
    private readonly Func<JobReport, Task> _report;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task _stdout;
    private readonly Task _stderrTask;
    private JsonObject? _result;
    private string? _error;
    private long _lastReportTicks;
    private bool _stepped;

    public WorkerProcess(JobLaunch launch, ProcessStartInfo start, string logPath, Func<JobReport, Task> report)
    {
        Launch = launch;
        _report = report;
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        _log.WriteLine($"--- {DateTimeOffset.UtcNow:O} attempt {launch.Attempt} on {launch.Slot.SiloName}: {start.FileName} {string.Join(' ', start.ArgumentList)}");
        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        StartedAt = DateTimeOffset.UtcNow;
        LastProgress = DateTimeOffset.UtcNow;
        _stdout = Task.Run(ReadStdoutAsync);
        _stderrTask = Task.Run(ReadStderrAsync);
        Exited = WaitAsync();
    }

    public JobLaunch Launch { get; }

    public int ProcessId => _process.Id;

    public DateTimeOffset StartedAt { get; }

    public DateTimeOffset LastProgress { get; private set; }

    /// <summary>Why the supervisor stops it (cancel, silo shutdown, stall); null while it runs on its own.</summary>
    public string? StopReason { get; private set; }

    /// <summary>The stop is the worker's failure (it stalled), not a request.</summary>
    public bool StopIsFailure { get; private set; }

    /// <summary>Completes once the process has exited and its final report was sent.</summary>
    public Task Exited { get; }

    /// <summary>Asks the worker to checkpoint and stop (SIGTERM); kills it if it has not exited after the grace period.</summary>
    public void Stop(string reason, TimeSpan grace, bool isFailure = false)
    {
        if (StopReason is not null) return;
        StopReason = reason;
        StopIsFailure = isFailure;
        _log.WriteLine($"--- {DateTimeOffset.UtcNow:O} stopping: {reason}");
        if (!PosixSignals.Send(_process.Id, PosixSignals.SigTerm)) return;
        _ = Task.Delay(grace).ContinueWith(_ => Kill(), TaskScheduler.Default);
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // exited meanwhile
        }
    }

    private async Task ReadStdoutAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            var message = WorkerProtocol.Parse(line);
            if (message is null)
            {
                _log.WriteLine(line);
                continue;
            }
            switch ((string?)message["event"])
            {
                case "started":
                    await SendAsync(Report(JobReportKind.Started));
                    break;
                case "progress":
                    if (!_stepped) _log.WriteLine($"--- {DateTimeOffset.UtcNow:O} first step");   // the end of the job's start latency
                    _stepped = true;
                    LastProgress = DateTimeOffset.UtcNow;
                    // At most one progress report a second reaches the owner.
                    if (Stopwatch.GetElapsedTime(_lastReportTicks).TotalSeconds < 1 && (long?)message["step"] != (long?)message["total"]) break;
                    _lastReportTicks = Stopwatch.GetTimestamp();
                    await SendAsync(Report(JobReportKind.Progress) with
                    {
                        Step = (long?)message["step"] ?? 0, TotalSteps = (long?)message["total"] ?? 0,
                        Loss = (double?)message["loss"], TokensPerSecond = (double?)message["tokens_per_second"],
                        Seconds = (double?)message["seconds"] ?? 0,
                    });
                    break;
                case "succeeded":
                    _result = message["result"] as JsonObject;
                    break;
                case "failed":
                    _error = (string?)message["error"];
                    break;
            }
        }
    }

    private async Task ReadStderrAsync()
    {
        while (await _process.StandardError.ReadLineAsync() is { } line)
        {
            _log.WriteLine(line);
            lock (_stderr)
            {
                _stderr.Enqueue(line);
                while (_stderr.Count > StderrLinesKept) _stderr.Dequeue();
            }
        }
    }

    private async Task WaitAsync()
    {
        await _process.WaitForExitAsync();
        await Task.WhenAll(_stdout, _stderrTask);
        var code = _process.ExitCode;
        _log.WriteLine($"--- {DateTimeOffset.UtcNow:O} exited with code {code} after {_clock.Elapsed.TotalSeconds:F1} s");
        var final = Report(JobReportKind.Failed) with { ExitCode = code, Seconds = _clock.Elapsed.TotalSeconds };
        if (code == 0 && _result is not null)
            final = final with { Kind = JobReportKind.Succeeded, ResultJson = _result.ToJsonString() };
        else if ((StopReason is not null && !StopIsFailure) || code == WorkerProtocol.Interrupted)
            // Asked to stop, or stopped by a signal of its own (Ctrl-C reaches the whole process group): it checkpointed.
            final = final with { Kind = JobReportKind.Interrupted, Error = StopReason ?? "stopped by a signal" };
        else
            final = final with { Error = FailureText(code), Permanent = code == 2 };
        // The end must reach the owner: try for a while (its silo may be re-activating it, its
        // storage may be down). The owner also asks the supervisor for it (FinalReport) while it waits.
        FinalReport = final;
        for (var tries = 1; !await SendAsync(final) && tries < 10; tries++) await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, 1 << tries)));
    }

    /// <summary>How the attempt ended, once the process has exited.</summary>
    public JobReport? FinalReport { get; private set; }

    private string FailureText(int code)
    {
        string tail;
        lock (_stderr) tail = string.Join("\n", _stderr);
        var why = StopIsFailure ? StopReason! : code > 128 ? $"killed by signal {code - 128} (exit code {code})" : $"exit code {code}";
        if (_error is not null) why += $": {_error}";
        return tail.Length == 0 ? why : $"{why}; last stderr lines:\n{tail}";
    }

    private JobReport Report(JobReportKind kind) => new()
    {
        JobKey = Launch.Request.JobKey, Attempt = Launch.Attempt, Kind = kind, Silo = Launch.Slot.SiloName, Seconds = _clock.Elapsed.TotalSeconds,
    };

    private async Task<bool> SendAsync(JobReport report)
    {
        try
        {
            await _report(report);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.WriteLine($"--- could not report {report.Kind} to the job's owner: {e.Message}");
            return false;
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        _log.Dispose();
    }
}
