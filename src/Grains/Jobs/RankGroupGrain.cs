using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Training.DisCo;
using Orleans.Runtime;

namespace Orleans.MoE.Grains.Jobs;

/// <summary>
/// One multi-rank job (see <see cref="IRankGroupGrain"/>), like Ray Train's worker group: the P slots
/// are reserved at once (on P distinct silos for a fine-tune; data shards may share one), rank 0's
/// silo serves the rendezvous, and each rank runs as a <see cref="IHeadParallelRankGrain"/> (or, for
/// the clustering, a <see cref="IDataShardGrain"/>) on its slot. When any rank fails (its worker, or its
/// silo), the others are stopped, the failure is counted once for the group, and the whole group is
/// placed again and resumes from the last checkpoint, which reshards to any world size.
/// </summary>
internal sealed partial class RankGroupGrain(
    [PersistentState("group", StorageNames.Cluster)] IPersistentState<RankGroupState> state,
    IOptions<ArtifactStoreOptions> artifacts,
    ILogger<RankGroupGrain> logger) : Grain, IRankGroupGrain
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReconcilePeriod = TimeSpan.FromSeconds(5);

    private IGrainTimer? _placementTimer;
    private JobView? _rankZero;

    private RankGroupState S => state.State;

    private JobRequest Request => S.Request ?? throw new InvalidOperationException($"group {this.GetPrimaryKeyString()} was never asked to run");

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Status == JobStatus.Waiting) ArmPlacementTimer();
        this.RegisterGrainTimer(ReconcileAsync, new GrainTimerCreationOptions(ReconcilePeriod, ReconcilePeriod) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public async Task<JobView> RunAsync(JobRequest request)
    {
        if (S.Request is null)
        {
            // New state (first run, or the storage lost its data): above every group attempt its ranks' directories record.
            S.Attempt = Math.Max(S.Attempt, RecordedAttempts.HighestGroupAttemptOf(artifacts.Value.PathOf(request.Directory), request.Name));
            S.Request = request;
            S.Status = JobStatus.Waiting;
            await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        }
        if (S.Status == JobStatus.Waiting) await PlaceAsync();
        return View();
    }

    public async Task CancelAsync(string reason)
    {
        if (S.Request is null || S.Status.IsTerminal()) return;
        S.CancelRequested = true;
        S.Error = reason;
        await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        if (S.Status == JobStatus.Running) await StopRanksAsync(reason);
        else await EndAsync(JobStatus.Cancelled);
    }

    public Task<JobView> GetViewAsync() => Task.FromResult(View());

    public Task<JobOutcome?> GetOutcomeAsync() => Task.FromResult(S.Status.IsTerminal() && S.Request is not null ? Outcome() : null);

    /// <summary>The group has no worker of its own: its ranks report to their grains, which tell the group.</summary>
    public Task ReportAsync(JobReport report)
    {
        LogStaleReport(logger, report.JobKey, report.Attempt);
        return Task.CompletedTask;
    }

    public async Task SiloLostAsync(int attempt, string silo)
    {
        if (S.Status != JobStatus.Running || attempt != S.Attempt || S.Stopping) return;
        (S.Stopping, S.SiloLost) = (true, true);
        S.Error = $"attempt {attempt}: silo {silo} left the cluster";
        await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        await StopRanksAsync(S.Error);
    }

    public async Task JobEndedAsync(JobOutcome outcome)
    {
        if (S.Status != JobStatus.Running || RankOf(outcome.Name) is not { } rank || rank.Attempt != S.Attempt || S.Ended.ContainsKey(rank.Rank)) return;
        S.Ended[rank.Rank] = outcome.Status;
        if (outcome.Status == JobStatus.Succeeded && rank.Rank == 0) (S.ResultJson, S.Seconds) = (outcome.ResultJson, outcome.Seconds);
        var stopNow = outcome.Status != JobStatus.Succeeded && !S.Stopping;
        if (stopNow)
        {
            S.Stopping = true;
            S.Error = $"attempt {S.Attempt}, rank {rank.Rank} of {S.WorldSize} on silo {outcome.Silo}: {outcome.Error}";
            LogRankFailed(logger, Request.JobKey, S.Attempt, rank.Rank, outcome.Error ?? "");
        }
        await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        if (stopNow) await StopRanksAsync($"rank {rank.Rank} of its group failed");
        if (S.Ended.Count == S.WorldSize) await GroupEndedAsync();
    }

    public Task JobChangedAsync(JobView view)
    {
        if (RankOf(view.Name) is not { Rank: 0 } rank || rank.Attempt != S.Attempt || S.Status != JobStatus.Running) return Task.CompletedTask;
        _rankZero = view;
        Parent().JobChangedAsync(View()).Ignore();
        return Task.CompletedTask;
    }

    /// <summary>Every rank of the attempt has ended: the group succeeded, or it is placed again (or fails, its budget spent).</summary>
    private async Task GroupEndedAsync()
    {
        await Ledger().ReleaseAsync(Request.JobKey, S.Attempt);
        _rankZero = null;
        if (S.Ended.Values.All(s => s == JobStatus.Succeeded))
        {
            await EndAsync(JobStatus.Succeeded);
            return;
        }
        if (S.CancelRequested)
        {
            await EndAsync(JobStatus.Cancelled);
            return;
        }
        // A rank that failed (or a silo that died) costs the group one failure; ranks that were only
        // interrupted (their silo shut down gracefully) cost nothing.
        if (S.Ended.Values.Contains(JobStatus.Failed) || S.SiloLost)
        {
            S.Failures++;
            if (S.Failures > Request.MaxFailures)
            {
                await EndAsync(JobStatus.Failed);
                return;
            }
        }
        S.Status = JobStatus.Waiting;
        (S.Stopping, S.SiloLost) = (false, false);
        S.Slots = [];
        S.Ended = [];
        await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        await PlaceAsync();
    }

    /// <summary>Reserves P slots on distinct silos (or, elastic after a failure, the largest fitting world size) and starts the ranks.</summary>
    private async Task PlaceAsync()
    {
        var request = Request;
        var attempt = S.Attempt + 1;
        SlotReservation reservation = new();
        foreach (var size in WorldSizes(request))
        {
            reservation = await Ledger().ReserveAsync(new SlotRequest
            {
                JobKey = request.JobKey, Attempt = attempt, DeviceClass = request.DeviceClass, Ranks = size, Owner = this.GetGrainId().ToString(),
                SharedSilos = request.SharedSilos,
            });
            if (reservation.Granted) break;
        }
        if (!reservation.Granted)
        {
            if (S.Waiting != reservation.Waiting)
            {
                S.Waiting = reservation.Waiting;
                Parent().JobChangedAsync(View()).Ignore();
            }
            ArmPlacementTimer();
            return;
        }
        _placementTimer?.Dispose();
        _placementTimer = null;

        var slots = reservation.Slots;
        int port;
        try
        {
            port = await GrainFactory.GetGrain<ISiloSupervisorGrain>(slots[0].Silo).FreePortAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await Ledger().ReleaseAsync(request.JobKey, attempt);
            S.Waiting = $"could not reach rank 0's silo {slots[0].SiloName} ({e.Message}); placing the group again";
            ArmPlacementTimer();
            return;
        }
        (S.Attempt, S.Slots, S.Ended, S.Status, S.Waiting) = (attempt, slots.ToList(), [], JobStatus.Running, null);
        await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());   // the attempt is recorded before any rank starts
        var rendezvous = $"{slots[0].Host}:{port}";
        LogPlaced(logger, request.JobKey, attempt, slots.Count, string.Join(", ", slots.Select(s => s.SiloName)), rendezvous);
        for (var r = 0; r < slots.Count; r++)
        {
            var rank = request with
            {
                Name = RankName(request.Name, attempt, r),
                Ranks = 1,
                MaxFailures = 0,   // the group retries, not the rank
                Slot = slots[r],
                Parent = this.GetGrainId().ToString(),
                Arguments = new Dictionary<string, string>(request.Arguments)
                {
                    [WorkerArguments.Rank] = r.ToString(CultureInfo.InvariantCulture),
                    [WorkerArguments.WorldSize] = slots.Count.ToString(CultureInfo.InvariantCulture),
                    [WorkerArguments.Rendezvous] = rendezvous,
                    [WorkerArguments.Parallel] = request.Parallel,
                    [WorkerArguments.TimeoutSeconds] = request.CollectiveTimeoutSeconds.ToString("R", CultureInfo.InvariantCulture),
                    [WorkerArguments.GroupAttempt] = attempt.ToString(CultureInfo.InvariantCulture),
                },
            };
            await Rank(rank.Name).RunAsync(rank);
        }
        Parent().JobChangedAsync(View()).Ignore();
    }

    /// <summary>P; after a failure of an elastic group also every smaller world size that divides the model's heads or experts.</summary>
    private IEnumerable<int> WorldSizes(JobRequest request)
    {
        yield return request.Ranks;
        if (!request.Elastic || S.Failures == 0) yield break;
        for (var p = request.Ranks - 1; p >= 1; p--)
            if (request.RankDivisor is not { } d || d % p == 0) yield return p;
    }

    private async Task StopRanksAsync(string reason)
    {
        for (var r = 0; r < S.WorldSize; r++)
        {
            if (S.Ended.ContainsKey(r)) continue;
            try
            {
                await Rank(RankName(Request.Name, S.Attempt, r)).CancelAsync(reason);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogStopFailed(logger, Request.JobKey, r, e.Message);
            }
        }
    }

    /// <summary>Asks the ranks that have not told their end whether they ended (a one-way message may have been lost).</summary>
    private async Task ReconcileAsync()
    {
        if (S.Status != JobStatus.Running) return;
        for (var r = 0; r < S.WorldSize && S.Status == JobStatus.Running; r++)
            if (!S.Ended.ContainsKey(r) && await Rank(RankName(Request.Name, S.Attempt, r)).GetOutcomeAsync() is { } outcome)
                await JobEndedAsync(outcome);
    }

    private async Task EndAsync(JobStatus status)
    {
        _placementTimer?.Dispose();
        _placementTimer = null;
        S.Status = status;
        await state.WriteRetryingAsync(logger, this.GetPrimaryKeyString());
        Parent().JobEndedAsync(Outcome()).Ignore();
    }

    private void ArmPlacementTimer() =>
        _placementTimer ??= this.RegisterGrainTimer(() => S.Status == JobStatus.Waiting ? PlaceAsync() : Task.CompletedTask,
            new GrainTimerCreationOptions(Retry, Retry) { KeepAlive = true });

    private JobOutcome Outcome() => new()
    {
        Name = Request.Name, Status = S.Status, Attempt = S.Attempt, Failures = S.Failures, ResultJson = S.ResultJson,
        Error = S.Status == JobStatus.Succeeded ? null : S.Error, Pool = S.Slots.FirstOrDefault()?.Pool, Silo = Silos(), Seconds = S.Seconds,
    };

    private JobView View() => new()
    {
        Name = S.Request?.Name ?? this.GetPrimaryKeyString(),
        Status = S.Status,
        Attempt = S.Attempt,
        Failures = S.Failures,
        DeviceClass = S.Request?.DeviceClass ?? "",
        Silo = Silos(),
        Step = _rankZero?.Step ?? 0,
        TotalSteps = _rankZero?.TotalSteps ?? 0,
        Loss = _rankZero?.Loss,
        TokensPerSecond = _rankZero?.TokensPerSecond,
        EtaSeconds = _rankZero?.EtaSeconds,
        Message = S.Status switch
        {
            JobStatus.Waiting => S.Waiting,
            JobStatus.Running when S.Stopping => $"stopping the group: {S.Error}",
            JobStatus.Failed or JobStatus.Cancelled => S.Error,
            _ => S.Failures > 0 ? $"{S.WorldSize} ranks, restarted after: {S.Error}" : $"{S.WorldSize} ranks",
        },
        Updated = DateTimeOffset.UtcNow,
    };

    private string? Silos() => S.Slots.Count == 0 ? null : string.Join("+", S.Slots.Select(s => s.SiloName));

    private static string RankName(string group, int attempt, int rank) => $"{group}-a{attempt}-r{rank}";

    /// <summary>The attempt and rank a rank's job name carries, or null when the name is not one of this group's.</summary>
    private (int Attempt, int Rank)? RankOf(string name)
    {
        var prefix = Request.Name + "-a";
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var parts = name[prefix.Length..].Split("-r");
        return parts.Length == 2 && int.TryParse(parts[0], out var a) && int.TryParse(parts[1], out var r) ? (a, r) : null;
    }

    /// <summary>A rank's grain: a data shard of the clustering, or a head-parallel rank of a fine-tune.</summary>
    private IJobGrain Rank(string name) => Request.Phase == DisCoPhases.Cluster
        ? GrainFactory.GetGrain<IDataShardGrain>(JobKeys.Of(Request.ExperimentId, name))
        : GrainFactory.GetGrain<IHeadParallelRankGrain>(JobKeys.Of(Request.ExperimentId, name));

    private ISlotLedgerGrain Ledger() => GrainFactory.GetGrain<ISlotLedgerGrain>(0);

    private IJobParentGrain Parent() => Request.Parent is { } parent
        ? GrainFactory.GetGrain<IJobParentGrain>(GrainId.Parse(parent))
        : GrainFactory.GetGrain<IExperimentCoordinatorGrain>(Request.ExperimentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {JobKey} attempt {Attempt}: {Ranks} ranks on {Silos}, rendezvous {Rendezvous}")]
    private static partial void LogPlaced(ILogger logger, string jobKey, int attempt, int ranks, string silos, string rendezvous);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {JobKey} attempt {Attempt}: rank {Rank} failed ({Error}); stopping the others")]
    private static partial void LogRankFailed(ILogger logger, string jobKey, int attempt, int rank, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {JobKey}: could not stop rank {Rank}: {Error}")]
    private static partial void LogStopFailed(ILogger logger, string jobKey, int rank, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a worker report for {JobKey} attempt {Attempt}: a group's ranks report to their own grains")]
    private static partial void LogStaleReport(ILogger logger, string jobKey, int attempt);
}
