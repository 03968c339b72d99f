using System.Collections.Concurrent;
using Orleans.MoE.Grains.Jobs;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>What a scripted attempt does: succeed at once, fail, or hold (running) until released or stopped.</summary>
internal enum ScriptedAction
{
    Succeed,
    Fail,
    Hold,
}

/// <summary>
/// The script of a test cluster's jobs, shared by its silos: which attempts succeed, fail or hold,
/// and a record of every launch and stop. The state machine's tests use it in place of worker
/// processes, so that they test the grains' logic alone and in milliseconds.
/// </summary>
internal sealed class JobScript
{
    private readonly ConcurrentDictionary<(string JobKey, int Attempt), TaskCompletionSource<ScriptedAction?>> _held = new();

    public Func<JobLaunch, ScriptedAction> Decide { get; set; } = _ => ScriptedAction.Succeed;

    public ConcurrentQueue<(JobLaunch Launch, string Silo)> Launches { get; } = new();

    public ConcurrentQueue<(string JobKey, int Attempt)> Stops { get; } = new();

    /// <summary>The names of the jobs whose attempts are held now.</summary>
    public IReadOnlyList<string> Held => _held.Keys.Select(k => k.JobKey[(k.JobKey.LastIndexOf('/') + 1)..]).ToList();

    /// <summary>Lets the held attempts of the job end as the action says.</summary>
    public void Release(string name, ScriptedAction action = ScriptedAction.Succeed)
    {
        foreach (var (key, hold) in _held.Where(h => h.Key.JobKey.EndsWith("/" + name, StringComparison.Ordinal))) hold.TrySetResult(action);
    }

    /// <summary>Waits until the attempt is released (its action) or stopped (null).</summary>
    internal async Task<ScriptedAction?> HoldAsync(JobLaunch launch)
    {
        var key = (launch.Request.JobKey, launch.Attempt);
        var hold = _held.GetOrAdd(key, _ => new TaskCompletionSource<ScriptedAction?>(TaskCreationOptions.RunContinuationsAsynchronously));
        var action = await hold.Task;
        _held.TryRemove(key, out _);
        return action;
    }

    internal void Interrupt(string jobKey, int attempt)
    {
        if (_held.TryGetValue((jobKey, attempt), out var hold)) hold.TrySetResult(null);
    }
}

/// <summary>A silo's supervisor that follows the <see cref="JobScript"/> instead of starting processes.</summary>
internal sealed class ScriptedSupervisor(JobScript script, string silo) : IJobSupervisor
{
    private readonly ConcurrentDictionary<(string, int), RunningJob> _running = new();

    private readonly ConcurrentDictionary<(string, int), JobReport> _ended = new();

    public IReadOnlyList<RunningJob> Running => _running.Values.ToList();

    public bool IsRunning(string jobKey, int attempt) => _running.ContainsKey((jobKey, attempt));

    public Task<JobReport?> FinalReportAsync(string jobKey, int attempt) => Task.FromResult(_ended.GetValueOrDefault((jobKey, attempt)));

    public Task StartAsync(JobLaunch launch)
    {
        script.Launches.Enqueue((launch, silo));
        var key = (launch.Request.JobKey, launch.Attempt);
        _running[key] = new RunningJob(launch.Request.JobKey, launch.Attempt, 0, DateTimeOffset.UtcNow);
        _ = Task.Run(async () =>
        {
            var report = new JobReport { JobKey = launch.Request.JobKey, Attempt = launch.Attempt, Kind = JobReportKind.Started, Silo = silo };
            await launch.Owner.ReportAsync(report);
            ScriptedAction? action = script.Decide(launch);
            if (action == ScriptedAction.Hold) action = await script.HoldAsync(launch);
            var end = action switch
            {
                ScriptedAction.Succeed => report with { Kind = JobReportKind.Succeeded, ResultJson = $$"""{"scripted":"{{launch.Request.Name}}"}""", Seconds = 1 },
                ScriptedAction.Fail => report with { Kind = JobReportKind.Failed, ExitCode = 1, Error = "scripted failure" },
                _ => report with { Kind = JobReportKind.Interrupted, Error = "stopped" },
            };
            _ended[key] = end;
            _running.TryRemove(key, out _);
            await launch.Owner.ReportAsync(end);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(string jobKey, int attempt, string reason)
    {
        script.Stops.Enqueue((jobKey, attempt));
        script.Interrupt(jobKey, attempt);
        return Task.CompletedTask;
    }
}
