using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Grains.Telemetry;
using Orleans.Runtime;

namespace Orleans.MoE.Grains.Jobs;

/// <summary>
/// What every job owner does (see <see cref="IJobGrain"/>): reserve a slot in the ledger, have the
/// slot's silo start attempt n of the job, follow the supervisor's reports, and retry a failed
/// attempt from its last checkpoint (the worker resumes it) until the failure budget is spent.
/// Every attempt gets a new number, persisted before it starts, and a report of any other attempt
/// (a zombie worker, a duplicate activation) is refused and logged, never recorded. A job whose state
/// is new numbers its attempts above those its experiment directory records (<see cref="RecordedAttempts"/>),
/// so that a job asked for again after the cluster's storage lost its data resumes above its checkpoint fence.
/// </summary>
internal abstract partial class JobGrain(IPersistentState<JobState> state, IOptions<ArtifactStoreOptions> artifacts, ILogger logger) : Grain, IJobGrain
{
    private static readonly TimeSpan PlacementRetry = TimeSpan.FromSeconds(1);

    private IGrainTimer? _placementTimer;
    private JobReport? _live;

    /// <summary>The span of the attempt being placed; persisted once the attempt has a slot.</summary>
    private PersistedSpan? _placing;

    private static readonly TimeSpan CheckPeriod = TimeSpan.FromSeconds(5);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A job that was waiting for a slot when its last activation went away keeps waiting here.
        if (state.State.Status == JobStatus.Waiting) ArmPlacementTimer();
        this.RegisterGrainTimer(CheckRunningAttemptAsync, new GrainTimerCreationOptions(CheckPeriod, CheckPeriod) { KeepAlive = true });
        return Task.CompletedTask;
    }

    /// <summary>
    /// Asks the running attempt's silo how it stands: an end whose report never arrived (the owner's
    /// storage or silo was down when the supervisor sent it) is taken from the supervisor; an attempt
    /// the silo does not know at all failed. A silo that is gone is the ledger's to report.
    /// </summary>
    private async Task CheckRunningAttemptAsync()
    {
        if (state.State.Status != JobStatus.Running || state.State.Slot is not { } slot) return;
        var attempt = state.State.Attempt;
        AttemptOnSilo there;
        try
        {
            there = await Supervisor(slot).GetAttemptAsync(Request.JobKey, attempt);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return;
        }
        if (state.State.Status != JobStatus.Running || state.State.Attempt != attempt) return;
        if (there.Final is { } end) await ReportAsync(end);
        else if (!there.Running)
            await ReportAsync(new JobReport { JobKey = Request.JobKey, Attempt = attempt, Kind = JobReportKind.Failed, Error = $"silo {slot.SiloName} does not run attempt {attempt}" });
    }

    private JobRequest Request => state.State.Request ?? throw new InvalidOperationException($"job {this.GetPrimaryKeyString()} was never asked to run");

    public async Task<JobView> RunAsync(JobRequest request)
    {
        if (state.State.Request is null || (state.State.Status == JobStatus.Pending))
        {
            if (state.State.Request is null)
            {
                var recorded = RecordedAttempts.HighestOf(artifacts.Value.PathOf(request.Directory), request.Name);
                if (recorded > 0) LogAttemptsRecorded(logger, request.JobKey, recorded);
                state.State.Attempt = Math.Max(state.State.Attempt, recorded);
            }
            state.State.Request = request;
            state.State.Status = JobStatus.Waiting;
            state.State.WaitingSince = DateTimeOffset.UtcNow;
            await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        }
        if (state.State.Status == JobStatus.Waiting) await PlaceAsync();
        return View();
    }

    public async Task CancelAsync(string reason)
    {
        if (state.State.Status.IsTerminal() || state.State.Request is null) return;
        if (state.State.Status == JobStatus.Running && state.State.Slot is { } slot)
        {
            state.State.CancelRequested = true;
            await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
            try
            {
                await Supervisor(slot).StopAsync(Request.JobKey, state.State.Attempt, reason);
                return;   // the attempt's last report ends the job
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogStopFailed(logger, Request.JobKey, state.State.Attempt, slot.SiloName, e.Message);
            }
        }
        await EndAsync(JobStatus.Cancelled, error: reason);
    }

    public Task<JobView> GetViewAsync() => Task.FromResult(View());

    public Task<JobOutcome?> GetOutcomeAsync() => Task.FromResult(state.State.Status.IsTerminal() && state.State.Request is not null ? Outcome() : null);

    public async Task ReportAsync(JobReport report)
    {
        if (state.State.Status != JobStatus.Running || report.Attempt != state.State.Attempt)
        {
            LogStaleReport(logger, report.JobKey, report.Attempt, report.Kind, state.State.Attempt, state.State.Status);
            return;
        }
        switch (report.Kind)
        {
            case JobReportKind.Started or JobReportKind.Progress:
                _live = report;
                Parent().JobChangedAsync(View()).Ignore();
                break;
            case JobReportKind.Succeeded:
                state.State.ResultJson = report.ResultJson;
                state.State.Seconds = report.Seconds;
                await EndAsync(JobStatus.Succeeded);
                break;
            case JobReportKind.Interrupted when state.State.CancelRequested:
                await EndAsync(JobStatus.Cancelled, error: "cancelled");
                break;
            case JobReportKind.Interrupted:
                // Its silo is shutting down: the checkpoint is written, the job resumes elsewhere, no failure counted.
                // A rank cannot move on its own: it ends, and its group places all its ranks again.
                LogInterrupted(logger, Request.JobKey, report.Attempt, state.State.Slot?.SiloName ?? "?");
                if (Request.Slot is not null) await EndAsync(JobStatus.Cancelled, error: $"interrupted on silo {state.State.Slot?.SiloName}: {report.Error}");
                else await RetryAsync(failed: null);
                break;
            case JobReportKind.Failed:
                await RetryAsync(failed: $"attempt {report.Attempt} on silo {state.State.Slot?.SiloName}: {report.Error}", permanent: report.Permanent);
                break;
        }
    }

    public async Task SiloLostAsync(int attempt, string silo)
    {
        if (state.State.Status != JobStatus.Running || attempt != state.State.Attempt) return;
        await RetryAsync(failed: $"attempt {attempt}: silo {silo} left the cluster");
    }

    /// <summary>Counts a failure (unless null), frees the slot, and places the next attempt or fails the job once the budget is spent.</summary>
    private async Task RetryAsync(string? failed, bool permanent = false)
    {
        EmitAttemptSpan(failed is null ? "interrupted" : "failed", failed);
        await ReleaseAsync(state.State.Attempt);
        _live = null;
        if (failed is not null)
        {
            state.State.Failures++;
            state.State.Error = failed;
            LogAttemptFailed(logger, Request.JobKey, state.State.Failures, Request.MaxFailures, failed);
            if (permanent || state.State.Failures > Request.MaxFailures)
            {
                await EndAsync(JobStatus.Failed, error: failed);
                return;
            }
        }
        if (state.State.CancelRequested)
        {
            await EndAsync(JobStatus.Cancelled, error: "cancelled");
            return;
        }
        state.State.Status = JobStatus.Waiting;
        state.State.Slot = null;
        state.State.WaitingSince = DateTimeOffset.UtcNow;
        await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        await PlaceAsync();
    }

    /// <summary>Reserves a slot for the next attempt and starts it there; without a free slot, tries again every second.</summary>
    private async Task PlaceAsync()
    {
        var request = Request;
        var attempt = state.State.Attempt + 1;
        if (request.TraceParent is not null)
        {
            _placing ??= PersistedSpan.ChildOf(request.TraceParent);
            if (_placing is not null) ExperimentTraces.Register(_placing.TraceId, request.Directory);
        }
        // A rank of a group runs on the slot its group reserved; any other job reserves its own.
        var reservation = request.Slot is { } assigned
            ? new SlotReservation { Slots = [assigned] }
            : await Ledger().ReserveAsync(new SlotRequest
            {
                JobKey = request.JobKey, Attempt = attempt, DeviceClass = request.DeviceClass, Owner = this.GetGrainId().ToString(),
                TraceParent = _placing?.TraceParent, TraceDirectory = request.Directory,
            });
        if (!reservation.Granted)
        {
            if (state.State.Waiting != reservation.Waiting)
            {
                state.State.Waiting = reservation.Waiting;
                Parent().JobChangedAsync(View()).Ignore();
            }
            ArmPlacementTimer();
            return;
        }
        _placementTimer?.Dispose();
        _placementTimer = null;
        var slot = reservation.Slots[0];
        state.State.Attempt = attempt;   // persisted before the worker starts: its reports carry this number
        state.State.Slot = slot;
        state.State.Status = JobStatus.Running;
        state.State.Waiting = null;
        state.State.AttemptSpan = _placing;
        _placing = null;
        if (state.State.WaitingSince is { } since)
            ExperimentTelemetry.QueueWait.Record((DateTimeOffset.UtcNow - since).TotalSeconds, new TagList { { "moe.device_class", slot.Pool.Class } });
        state.State.WaitingSince = null;
        await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        try
        {
            await Supervisor(slot).StartAsync(new JobLaunch
            {
                Request = request, Attempt = attempt, Slot = slot, Owner = this.AsReference<IJobGrain>(), TraceParent = state.State.AttemptSpan?.TraceParent,
            });
            LogStarted(logger, request.JobKey, attempt, slot.SiloName, slot.Pool.Class);
            Parent().JobChangedAsync(View()).Ignore();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The silo went away (or is shutting down) between the reservation and the start: not the
            // job's failure. Try again in a moment rather than at once, when the ledger knows better.
            LogStartFailed(logger, request.JobKey, attempt, slot.SiloName, e.Message);
            if (request.Slot is not null)
            {
                await EndAsync(JobStatus.Cancelled, error: $"could not start on silo {slot.SiloName}: {e.Message}");
                return;
            }
            EmitAttemptSpan("not started", e.Message);
            await ReleaseAsync(attempt);
            state.State.Status = JobStatus.Waiting;
            state.State.WaitingSince = DateTimeOffset.UtcNow;
            state.State.Slot = null;
            state.State.Waiting = $"could not start on silo {slot.SiloName} ({e.Message}); placing it again";
            await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
            ArmPlacementTimer();
        }
    }

    private void ArmPlacementTimer() =>
        _placementTimer ??= this.RegisterGrainTimer(PlaceWhileWaitingAsync, new GrainTimerCreationOptions(PlacementRetry, PlacementRetry) { KeepAlive = true });

    private Task PlaceWhileWaitingAsync() => state.State.Status == JobStatus.Waiting ? PlaceAsync() : Task.CompletedTask;

    private async Task EndAsync(JobStatus status, string? error = null)
    {
        _placementTimer?.Dispose();
        _placementTimer = null;
        _live = null;
        if (state.State.Request is not null) await ReleaseAsync(state.State.Attempt);
        EmitAttemptSpan(status.ToString().ToLowerInvariant(), status == JobStatus.Succeeded ? null : error ?? state.State.Error);
        state.State.Status = status;
        if (status != JobStatus.Succeeded) state.State.Error = error ?? state.State.Error;
        await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        if (state.State.Request is not null) Parent().JobEndedAsync(Outcome()).Ignore();
    }

    /// <summary>
    /// Emits the current attempt's span (its silo, device class and attempt number) once, as the
    /// attempt ends; the caller persists the state that marks it emitted.
    /// </summary>
    private void EmitAttemptSpan(string outcome, string? error)
    {
        if (state.State.AttemptSpan is not { Ended: false } span) return;
        var slot = state.State.Slot;
        state.State.AttemptSpan = span.Emit(ExperimentTelemetry.Experiments, $"job {Request.Name}", DateTimeOffset.UtcNow,
            [
                new("moe.job.name", Request.Name), new("moe.job.phase", Request.Phase), new("moe.job.attempt", state.State.Attempt),
                new("moe.silo", slot?.SiloName), new("moe.device_class", slot?.Pool.Class ?? Request.DeviceClass),
                new("moe.device_kind", slot?.Pool.Kind), new("moe.job.outcome", outcome),
            ],
            error is null ? ActivityStatusCode.Ok : ActivityStatusCode.Error, error);
    }

    private JobOutcome Outcome() => new()
    {
        Name = Request.Name,
        Status = state.State.Status,
        Attempt = state.State.Attempt,
        Failures = state.State.Failures,
        ResultJson = state.State.ResultJson,
        Error = state.State.Error,
        Pool = state.State.Slot?.Pool,
        Silo = state.State.Slot?.SiloName,
        Seconds = state.State.Seconds,
    };

    private JobView View()
    {
        var s = state.State;
        var live = _live;
        double? eta = live is { TokensPerSecond: > 0, TotalSteps: > 0 } && live.Step > 0 && live.Seconds > 0
            ? live.Seconds / live.Step * (live.TotalSteps - live.Step)
            : null;
        return new JobView
        {
            Name = s.Request?.Name ?? this.GetPrimaryKeyString(),
            Status = s.Status,
            Attempt = s.Attempt,
            Failures = s.Failures,
            DeviceClass = s.Request?.DeviceClass ?? "",
            Silo = s.Slot?.SiloName,
            Step = live?.Step ?? 0,
            TotalSteps = live?.TotalSteps ?? 0,
            Loss = live?.Loss,
            TokensPerSecond = live?.TokensPerSecond,
            EtaSeconds = eta,
            Message = s.Status switch
            {
                JobStatus.Waiting => s.Waiting,
                JobStatus.Running when s.CancelRequested => "cancelling: the worker checkpoints and stops",
                JobStatus.Failed or JobStatus.Cancelled => s.Error,
                _ => s.Failures > 0 ? $"retried after: {s.Error}" : null,
            },
            Updated = DateTimeOffset.UtcNow,
        };
    }


    /// <summary>Frees the attempt's slot, unless its group holds it.</summary>
    private Task ReleaseAsync(int attempt) => Request.Slot is null ? Ledger().ReleaseAsync(Request.JobKey, attempt) : Task.CompletedTask;

    private ISlotLedgerGrain Ledger() => GrainFactory.GetGrain<ISlotLedgerGrain>(0);

    private ISiloSupervisorGrain Supervisor(SlotGrant slot) => GrainFactory.GetGrain<ISiloSupervisorGrain>(slot.Silo);

    /// <summary>The grain told how the job goes: its group, or the experiment's coordinator.</summary>
    private IJobParentGrain Parent() => Request.Parent is { } parent
        ? GrainFactory.GetGrain<IJobParentGrain>(GrainId.Parse(parent))
        : GrainFactory.GetGrain<IExperimentCoordinatorGrain>(Request.ExperimentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobKey} attempt {Attempt} started on silo {Silo} ({DeviceClass})")]
    private static partial void LogStarted(ILogger logger, string jobKey, int attempt, string silo, string deviceClass);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a {Kind} report of {JobKey} attempt {Attempt}: the job is at attempt {Current} ({Status})")]
    private static partial void LogStaleReport(ILogger logger, string jobKey, int attempt, JobReportKind kind, int current, JobStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobKey} failed ({Failures} of {MaxFailures} failures allowed): {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string jobKey, int failures, int maxFailures, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobKey} attempt {Attempt} was interrupted on silo {Silo} (it checkpointed); placing it again")]
    private static partial void LogInterrupted(ILogger logger, string jobKey, int attempt, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobKey} attempt {Attempt} could not start on silo {Silo}: {Error}; placing it again")]
    private static partial void LogStartFailed(ILogger logger, string jobKey, int attempt, string silo, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobKey} is new here, and its experiment directory records attempts up to {Recorded}: its attempts are numbered above")]
    private static partial void LogAttemptsRecorded(ILogger logger, string jobKey, int recorded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not stop {JobKey} attempt {Attempt} on silo {Silo}: {Error}")]
    private static partial void LogStopFailed(ILogger logger, string jobKey, int attempt, string silo, string error);
}
