using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Telemetry;
using Orleans.MoE.Training.DisCo;
using Orleans.Runtime;
using Orleans.Storage;

namespace Orleans.MoE.Grains.Experiments;

/// <summary>
/// One experiment's coordinator (see <see cref="IExperimentCoordinatorGrain"/>): it asks for every
/// job of the plan whose inputs are done, records each job's end (in its own persisted state and in
/// the experiment directory's state.json, the second record), and moves the state machine. State is
/// written with its ETag after every transition; a write refused as inconsistent means another
/// activation owns the experiment, and this one stops acting. A reminder and a timer re-drive it
/// after a crash or a lost message.
/// </summary>
internal sealed partial class ExperimentCoordinatorGrain(
    [PersistentState("experiment", StorageNames.Cluster)] IPersistentState<ExperimentState> state,
    IOptions<ArtifactStoreOptions> artifacts,
    ILogger<ExperimentCoordinatorGrain> logger) : Grain, IExperimentCoordinatorGrain, IRemindable
{
    private const string WakeReminder = "wake";
    private const int EventsKept = 500;
    private static readonly TimeSpan ReconcilePeriod = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, JobView> _views = [];
    private DisCoExperimentConfig? _config;
    private IReadOnlyList<JobNode> _nodes = [];
    private bool _superseded;

    private ExperimentState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Plan is { } plan) Load(plan);
        if (S.Trace is { } trace && S.Plan is not null) ExperimentTraces.Register(trace.TraceId, S.Plan.Directory);
        this.RegisterGrainTimer(ReconcileAsync, new GrainTimerCreationOptions(ReconcilePeriod, ReconcilePeriod) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public async Task<ExperimentStatus> StartAsync(ExperimentPlan plan)
    {
        if (S.Plan is { } existing)
        {
            if (existing.Directory != plan.Directory || !DisCoExperimentLoader.IsSameExperiment(existing.ExperimentJson, Parse(plan)))
                throw new ExperimentConflictException(
                    $"experiment '{this.GetPrimaryKeyString()}' already exists with another experiment file or directory ({existing.Directory}); choose another id");
        }
        else
        {
            Load(plan);
            var layout = Layout(plan);
            ExperimentDirectory.Prepare(layout, plan, _config!);
            S.Plan = plan;
            S.Phase = ExperimentPhase.Created;
            S.StartedAt = DateTimeOffset.UtcNow;
            S.Trace = PersistedSpan.NewRoot();
            ExperimentTraces.Register(S.Trace.TraceId, plan.Directory);
            Event($"experiment '{_config!.Name}' created in {plan.Directory} ({_nodes.Count} jobs)");
            AdoptFinishedPhases(layout);
            await PersistAsync();
            await GrainFactory.GetGrain<IExperimentRegistryGrain>(0).RegisterAsync(this.GetPrimaryKeyString());
        }
        if (!S.Phase.IsTerminal()) await this.RegisterOrUpdateReminder(WakeReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        await ReconcileAsync();
        return Status();
    }

    public Task<ExperimentStatus> GetStatusAsync() => Task.FromResult(Status());

    public Task<IReadOnlyList<ExperimentEvent>> GetEventsAsync(long after) =>
        Task.FromResult<IReadOnlyList<ExperimentEvent>>(S.Events.Where(e => e.Sequence > after).ToList());

    public async Task CancelAsync(string reason)
    {
        if (S.Plan is null || S.Phase.IsTerminal()) return;
        S.Phase = ExperimentPhase.Cancelled;
        S.Message = $"cancelled: {reason}";
        S.EndedAt = DateTimeOffset.UtcNow;
        Event(S.Message);
        EmitEndedSpans();
        await PersistAsync();
        await StopJobsAsync(reason);
        await StopReminderAsync();
    }

    public async Task JobEndedAsync(JobOutcome outcome)
    {
        // Also once the experiment has ended: the jobs its end stopped report how they ended, and an
        // ended experiment must not show them running.
        if (_superseded || S.Plan is null) return;
        if (!S.Jobs.TryGetValue(outcome.Name, out var record) || record.Status.IsTerminal()) return;   // a duplicate, or not ours
        await RecordAsync(outcome, record);
        await DriveAsync();
    }

    public Task JobChangedAsync(JobView view)
    {
        // One-way messages may arrive late: only a newer view of a job that has not ended counts.
        if (!S.Jobs.TryGetValue(view.Name, out var record) || record.Status.IsTerminal()) return Task.CompletedTask;
        if (_views.TryGetValue(view.Name, out var seen) && (seen.Attempt > view.Attempt || seen.Updated > view.Updated)) return Task.CompletedTask;
        _views[view.Name] = view;
        if (record.Attempt < view.Attempt && view.Status == JobStatus.Running)
        {
            record.Attempt = view.Attempt;
            Event($"{view.Name}: attempt {view.Attempt} started on {view.Silo}" + (view.Failures > 0 ? $" (after {view.Failures} failed)" : ""));
        }
        return Task.CompletedTask;
    }

    public async Task WakeAsync()
    {
        await ReconcileAsync();
        await DriveAsync();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => WakeAsync();

    /// <summary>
    /// Asks every job that has not reported its end again (RunAsync is idempotent: a job the request
    /// never reached, because this coordinator died after recording it, starts now) and whether it
    /// ended (a one-way message may have been lost).
    /// </summary>
    private async Task ReconcileAsync()
    {
        if (_superseded || S.Plan is null || S.Phase.IsTerminal()) return;
        await GrainFactory.GetGrain<Placement.ISlotLedgerGrain>(0).ReconcileAsync();   // jobs on silos that left are re-placed
        foreach (var (name, record) in S.Jobs.Where(j => !j.Value.Status.IsTerminal()).ToList())
        {
            var node = _nodes.First(n => n.Name == name);
            var job = Job(node);
            _views[name] = await job.RunAsync(Request(node));
            if (await job.GetOutcomeAsync() is { } outcome && !record.Status.IsTerminal())
            {
                await RecordAsync(outcome, record);
                if (S.Phase.IsTerminal()) return;
            }
        }
        await DriveAsync();
    }

    /// <summary>Asks for every job whose inputs are done, and moves the phase to the furthest job started.</summary>
    private async Task DriveAsync()
    {
        if (_superseded || S.Plan is null || S.Phase.IsTerminal()) return;
        var ready = _nodes.Where(n => !S.Jobs.ContainsKey(n.Name)
            && n.DependsOn.All(d => S.Jobs.TryGetValue(d, out var r) && r.Status == JobStatus.Succeeded)).ToList();
        foreach (var node in ready)
        {
            if (S.Trace is { } trace && !S.PhaseSpans.ContainsKey(node.Stage)) S.PhaseSpans[node.Stage] = trace.Child();
            S.Jobs[node.Name] = new JobRecord { Status = JobStatus.Running };
            Event($"{node.Name}: asked for on a {node.DeviceClass} silo");
        }
        var advanced = Advance();
        if (advanced) EmitEndedSpans();
        // Recorded as asked for before asking: a coordinator that dies now asks again, and RunAsync is idempotent.
        if (ready.Count > 0 || advanced) await PersistAsync();
        foreach (var node in ready) _views[node.Name] = await Job(node).RunAsync(Request(node));
        if (S.Phase.IsTerminal()) await StopReminderAsync();
    }

    /// <summary>Moves the phase to the furthest state with a job asked for (Completed when every job succeeded), through every state between.</summary>
    private bool Advance()
    {
        var phase = _nodes.All(n => S.Jobs.TryGetValue(n.Name, out var r) && r.Status == JobStatus.Succeeded)
            ? ExperimentPhase.Completed
            : _nodes.Where(n => S.Jobs.ContainsKey(n.Name)).Select(n => n.Stage).DefaultIfEmpty(ExperimentPhase.Created).Max();
        if (phase <= S.Phase) return false;
        // Jobs of several states can start at once (the baseline with the submodels): the machine
        // still passes through every state of the plan, in order.
        foreach (var next in Enum.GetValues<ExperimentPhase>().Where(p => p > S.Phase && p <= phase && (p == phase || _nodes.Any(n => n.Stage == p))))
        {
            Event($"phase {S.Phase} -> {next}");
            LogTransition(logger, this.GetPrimaryKeyString(), S.Phase, next);
            S.Phase = next;
        }
        if (phase == ExperimentPhase.Completed)
        {
            S.EndedAt = DateTimeOffset.UtcNow;
            S.Report = Path.Combine(S.Plan!.Directory, Path.GetRelativePath(Layout(S.Plan).Root, Layout(S.Plan).Report));
            S.Message = $"completed; report: {S.Report}";
        }
        return true;
    }

    /// <summary>Records how a job ended: its measurements into state.json first (nothing is declared done that was not written), then the transition.</summary>
    private async Task RecordAsync(JobOutcome outcome, JobRecord record)
    {
        var ended = S.Phase.IsTerminal();
        record.Attempt = outcome.Attempt;
        record.Failures = outcome.Failures;
        record.Silo = outcome.Silo;
        record.Pool = outcome.Pool;
        record.Seconds = outcome.Seconds;
        record.Error = outcome.Error;
        switch (outcome.Status)
        {
            case JobStatus.Succeeded:
                var measurements = JsonNode.Parse(outcome.ResultJson ?? "{}") as JsonObject ?? [];
                if (outcome.Pool is { } pool)
                    measurements["device"] = new JsonObject
                    {
                        ["class"] = pool.Class, ["kind"] = pool.Kind, ["dollars_per_hour"] = pool.DollarsPerHour,
                        ["relative_throughput"] = pool.RelativeThroughput, ["silo"] = outcome.Silo,
                    };
                DisCoState.Open(Layout(S.Plan!).State).Complete(outcome.Name, measurements);
                record.Status = JobStatus.Succeeded;
                if (outcome.Pool is { } paid)
                    ExperimentTelemetry.Dollars.Add(outcome.Seconds / 3600.0 * paid.DollarsPerHour,
                        new TagList { { "moe.phase", StageOf(outcome.Name).ToString() }, { "moe.device_class", paid.Class } });
                Event($"{outcome.Name}: done on {outcome.Silo} in {outcome.Seconds:F1} s" + (outcome.Failures > 0 ? $" after {outcome.Failures} failed attempts" : ""));
                break;
            case JobStatus.Failed when ended:
                // It failed while the experiment's end stopped it: the experiment's own status and message stay.
                record.Status = JobStatus.Failed;
                Event($"{outcome.Name}: failed: {outcome.Error}");
                break;
            case JobStatus.Failed:
                record.Status = JobStatus.Failed;
                S.Phase = ExperimentPhase.Failed;
                S.EndedAt = DateTimeOffset.UtcNow;
                S.Message = $"job {outcome.Name} failed {outcome.Failures} times, more than its failure budget allows; last: {outcome.Error}";
                Event(S.Message);
                LogFailed(logger, this.GetPrimaryKeyString(), outcome.Name, outcome.Error ?? "");
                break;
            default:
                record.Status = outcome.Status;
                Event($"{outcome.Name}: {outcome.Status.ToString().ToLowerInvariant()}");
                break;
        }
        EmitEndedSpans();
        await PersistAsync();
        if (!ended && S.Phase == ExperimentPhase.Failed)
        {
            await StopJobsAsync("the experiment failed");
            await StopReminderAsync();
        }
    }

    /// <summary>Phases that state.json records as finished (an experiment directory from an earlier run) are not run again.</summary>
    private void AdoptFinishedPhases(DisCoLayout layout)
    {
        var finished = DisCoState.Open(layout.State);
        foreach (var node in _nodes.Where(n => finished.IsDone(n.Phase)))
            S.Jobs[node.Name] = new JobRecord { Status = JobStatus.Succeeded, Adopted = true };
        if (S.Jobs.Count > 0) Event($"{S.Jobs.Count} phases already finished in {layout.Root}: {string.Join(", ", S.Jobs.Keys)}");
    }

    private async Task StopJobsAsync(string reason)
    {
        foreach (var (name, record) in S.Jobs.Where(j => !j.Value.Status.IsTerminal()))
        {
            try
            {
                await Job(_nodes.First(n => n.Name == name)).CancelAsync(reason);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogCancelFailed(logger, name, e.Message);
            }
        }
    }

    /// <summary>
    /// Emits the phase spans whose jobs have all ended, and, once the experiment has ended, every
    /// open phase span and the root. Called before the state that marks them ended is persisted:
    /// a coordinator that dies in between emits them again (same ids; readers keep one).
    /// </summary>
    private void EmitEndedSpans()
    {
        if (S.Trace is not { } root) return;
        var now = DateTimeOffset.UtcNow;
        foreach (var (stage, span) in S.PhaseSpans.Where(p => !p.Value.Ended).ToList())
        {
            var jobs = _nodes.Where(n => n.Stage == stage).ToList();
            var statuses = jobs.Select(n => S.Jobs.TryGetValue(n.Name, out var r) ? r.Status : JobStatus.Pending).ToList();
            var done = statuses.All(s => s.IsTerminal());
            if (!done && !S.Phase.IsTerminal()) continue;
            var ok = statuses.All(s => s == JobStatus.Succeeded);
            S.PhaseSpans[stage] = span.Emit(ExperimentTelemetry.Experiments, $"phase {stage}", now,
                [new("moe.phase", stage.ToString()), new("moe.jobs", jobs.Count)],
                ok ? ActivityStatusCode.Ok : ActivityStatusCode.Error, ok ? null : $"{statuses.Count(s => s != JobStatus.Succeeded)} of {jobs.Count} jobs did not succeed");
        }
        if (!S.Phase.IsTerminal() || root.Ended) return;
        var completed = S.Phase == ExperimentPhase.Completed;
        S.Trace = root.Emit(ExperimentTelemetry.Experiments, "experiment", S.EndedAt ?? now,
            [
                new("moe.experiment.id", this.GetPrimaryKeyString()), new("moe.experiment.name", _config?.Name),
                new("moe.experiment.outcome", S.Phase.ToString()), new("moe.dollars", Status().Dollars),
            ],
            completed ? ActivityStatusCode.Ok : ActivityStatusCode.Error, completed ? null : S.Message);
    }

    private ExperimentPhase StageOf(string job) => _nodes.FirstOrDefault(n => n.Name == job)?.Stage ?? S.Phase;

    private async Task StopReminderAsync()
    {
        if (await this.GetReminder(WakeReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private async Task PersistAsync()
    {
        try
        {
            if (await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString())) await RecoverLostStorageAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation wrote since this one read: it owns the experiment now.
            _superseded = true;
            LogSuperseded(logger, this.GetPrimaryKeyString());
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>
    /// The storage lost this experiment's record (Redis emptied, or restarted without its data) and it
    /// was just written again from this activation's memory; the reminder and the registry entry were
    /// lost with it and are made again. The event tells the user what happened.
    /// </summary>
    private async Task RecoverLostStorageAsync()
    {
        Event("Redis lost its data (emptied, or restarted without its data files): the coordinator and its jobs wrote their state " +
            "again from memory and the experiment goes on. The cluster's membership was lost with it: until the silos restart, a silo " +
            "that dies is not detected and a new one cannot join. If the experiment stops moving, restart the silos and submit it again: " +
            "it resumes from its directory (state.json and the checkpoints)");
        LogStorageLost(logger, this.GetPrimaryKeyString());
        await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        try
        {
            if (!S.Phase.IsTerminal()) await this.RegisterOrUpdateReminder(WakeReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            await GrainFactory.GetGrain<IExperimentRegistryGrain>(0).RegisterAsync(this.GetPrimaryKeyString());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRecoveryIncomplete(logger, this.GetPrimaryKeyString(), e.Message);   // the timer still drives the experiment
        }
    }

    private void Load(ExperimentPlan plan)
    {
        _config = Parse(plan);
        _nodes = DisCoJobGraph.For(_config);
    }

    /// <summary>The plan's experiment: JSON (the client sends the canonical form of whatever file it read).</summary>
    private static DisCoExperimentConfig Parse(ExperimentPlan plan) =>
        DisCoExperimentLoader.Schema.Parse(plan.ExperimentJson, plan.Source, Config.ConfigFormat.Json);

    private DisCoLayout Layout(ExperimentPlan plan) => new(artifacts.Value.PathOf(plan.Directory));

    private JobRequest Request(JobNode node)
    {
        var cluster = _config!.Cluster;
        var request = new JobRequest
        {
            ExperimentId = this.GetPrimaryKeyString(),
            Name = node.Name,
            Phase = node.Phase,
            Directory = S.Plan!.Directory,
            DeviceClass = node.DeviceClass,
            MaxFailures = cluster.MaxFailures,
            StallTimeout = cluster.JobStallTimeoutSeconds is { } stall ? TimeSpan.FromSeconds(stall) : null,
            // The threads the phase's training section sets, from the worker's start, so that the
            // process (.NET and libtorch alike) is sized for what it will use. Not set: the job gets
            // its slot's share of the cores.
            Threads = DisCoPhases.TrainingOf(_config, node.Phase)?.Threads,
            TraceParent = S.PhaseSpans.TryGetValue(node.Stage, out var phase) ? phase.TraceParent : null,
        };
        if (node.Kind != JobKind.RankGroup) return request;
        if (node.Phase == DisCoPhases.Cluster)
        {
            // Data shards: any number of them gives the same clustering, so a group that lost one
            // restarts with as many as fit, on any free low-cost slots, several to a silo.
            return request with
            {
                Ranks = _config.Clustering.Shards, Parallel = "data", Elastic = true, SharedSilos = true,
                CollectiveTimeoutSeconds = cluster.CollectiveTimeoutSeconds,
            };
        }
        var mode = Training.Parallel.ParallelRank.ModeFor(cluster.Parallel, _config.Model);
        return request with
        {
            Ranks = cluster.FineTuneRanks, Parallel = cluster.Parallel, Elastic = cluster.Elastic,
            CollectiveTimeoutSeconds = cluster.CollectiveTimeoutSeconds, RankDivisor = Training.Parallel.ParallelRank.Divisor(mode, _config.Model),
        };
    }

    private IJobGrain Job(JobNode node)
    {
        var key = JobKeys.Of(this.GetPrimaryKeyString(), node.Name);
        return node.Kind switch
        {
            JobKind.ExpertSubmodel => GrainFactory.GetGrain<IExpertSubmodelGrain>(key),
            JobKind.DataShard => GrainFactory.GetGrain<IDataShardGrain>(key),
            JobKind.HeadParallelRank => GrainFactory.GetGrain<IHeadParallelRankGrain>(key),
            JobKind.RankGroup => GrainFactory.GetGrain<IRankGroupGrain>(key),
            _ => GrainFactory.GetGrain<IPhaseJobGrain>(key),
        };
    }

    private void Event(string text)
    {
        S.Events.Add(new ExperimentEvent(++S.LastEvent, DateTimeOffset.UtcNow, text));
        if (S.Events.Count > EventsKept) S.Events.RemoveRange(0, S.Events.Count - EventsKept);
    }

    private ExperimentStatus Status()
    {
        var jobs = _nodes.Where(n => S.Jobs.ContainsKey(n.Name)).Select(n => View(n, S.Jobs[n.Name])).ToList();
        var waiting = jobs.FirstOrDefault(j => j.Status == JobStatus.Waiting && j.Message is not null);
        var running = jobs.Where(j => j.Status == JobStatus.Running).Select(j => j.Name).ToList();
        var message = S.Phase.IsTerminal() || S.Plan is null ? S.Message
            : waiting is not null ? $"{waiting.Name}: {waiting.Message}"
            : running.Count > 0 ? $"running {string.Join(", ", running)}" : S.Message;
        return new ExperimentStatus
        {
            ExperimentId = this.GetPrimaryKeyString(),
            Name = _config?.Name ?? "",
            Phase = S.Phase,
            Message = message,
            Jobs = jobs,
            Report = S.Report,
            Directory = S.Plan?.Directory ?? "",
            StartedAt = S.StartedAt,
            EndedAt = S.EndedAt,
            LastEvent = S.LastEvent,
            Dollars = S.Jobs.Values.Where(j => j.Status == JobStatus.Succeeded && j.Pool is not null)
                .Sum(j => j.Seconds / 3600.0 * j.Pool!.DollarsPerHour),
        };
    }

    private JobView View(JobNode node, JobRecord record)
    {
        if (_views.TryGetValue(node.Name, out var view) && !record.Status.IsTerminal()) return view;
        return new JobView
        {
            Name = node.Name, Status = record.Status, Attempt = record.Attempt, Failures = record.Failures,
            DeviceClass = node.DeviceClass, Silo = record.Silo, Message = record.Adopted ? "finished in an earlier run" : record.Error,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId}: {From} -> {To}")]
    private static partial void LogTransition(ILogger logger, string experimentId, ExperimentPhase from, ExperimentPhase to);

    [LoggerMessage(Level = LogLevel.Error, Message = "Experiment {ExperimentId} failed: job {Job}: {Error}")]
    private static partial void LogFailed(ILogger logger, string experimentId, string job, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Experiment {ExperimentId} was written by another activation; this one stops acting")]
    private static partial void LogSuperseded(ILogger logger, string experimentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Experiment {ExperimentId}: its stored state had vanished (storage emptied); written again from memory")]
    private static partial void LogStorageLost(ILogger logger, string experimentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Experiment {ExperimentId}: could not register its reminder or registry entry again after the storage lost its data: {Error}")]
    private static partial void LogRecoveryIncomplete(ILogger logger, string experimentId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not cancel job {Job}: {Error}")]
    private static partial void LogCancelFailed(ILogger logger, string job, string error);
}
