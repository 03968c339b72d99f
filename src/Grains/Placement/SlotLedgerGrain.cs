using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.MoE.Grains.Jobs;
using Orleans.MoE.Grains.Telemetry;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Orleans.MoE.Grains.Placement;

/// <summary>
/// The cluster's slot ledger (see <see cref="ISlotLedgerGrain"/>). Its reservations are persisted, so
/// a ledger re-activated on another silo knows who holds what; silos that left the cluster lose
/// their reservations at the next reconciliation (every second while the ledger is active), and the
/// owners of the jobs that ran there are told to re-place them.
/// </summary>
internal sealed partial class SlotLedgerGrain(
    [PersistentState("ledger", StorageNames.Cluster)] IPersistentState<SlotLedgerState> state,
    IClusterMembershipService membership,
    ISiloMetadataCache metadata,
    ILogger<SlotLedgerGrain> logger) : Grain, ISlotLedgerGrain
{
    private static readonly TimeSpan ReconcilePeriod = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Silos shutting down: still active members while their workers checkpoint, but offered to no
    /// job, or the jobs they stop would be placed on them again. Not persisted: such a silo leaves
    /// the cluster within its stop grace period, and then it offers nothing anyway.
    /// </summary>
    private readonly HashSet<string> _draining = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(ReconcileAsync, new GrainTimerCreationOptions(ReconcilePeriod, ReconcilePeriod) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public async Task<SlotReservation> ReserveAsync(SlotRequest request)
    {
        var reservations = state.State.Reservations;
        if (reservations.TryGetValue(request.JobKey, out var held))
        {
            if (held.Attempt == request.Attempt)
                return new SlotReservation { Slots = held.Slots.Select(s => s.Grant!).ToList() };
            // A newer attempt replaces whatever an older one still held.
            reservations.Remove(request.JobKey);
        }
        var silos = LiveSilos();
        var choice = SlotChoice.Choose(request, silos);
        // First come, first served: a request that could be granted waits while an earlier one of its class could be too.
        ExpireWaiters();
        var ahead = _waiters.FirstOrDefault(w => w.JobKey != request.JobKey && w.Request.DeviceClass == request.DeviceClass
            && w.Since <= (_waiters.Find(x => x.JobKey == request.JobKey)?.Since ?? DateTimeOffset.MaxValue)
            && SlotChoice.Choose(w.Request, silos).Granted);
        if (choice.Granted && ahead is not null) choice = new SlotReservation { Waiting = $"waiting for a silo of class {request.DeviceClass}: {ahead.JobKey} asked first" };
        if (!choice.Granted)
        {
            Waiting(request);
            if (held is not null) await state.WriteRetryingAsync(logger, "the slot ledger");
            return choice;
        }
        _waiters.RemoveAll(w => w.JobKey == request.JobKey);
        reservations[request.JobKey] = new LedgerEntry
        {
            Attempt = request.Attempt,
            Owner = request.Owner,
            Slots = choice.Slots.Select(g => new LedgerSlot { Silo = g.Silo, Class = request.DeviceClass, Grant = g }).ToList(),
        };
        await state.WriteRetryingAsync(logger, "the slot ledger");
        TracePlacement(request, silos, choice);
        LogReserved(logger, request.JobKey, request.Attempt, string.Join(", ", choice.Slots.Select(s => $"{s.SiloName} ({s.Pool.Class}, ${s.Pool.DollarsPerHour}/h)")));
        return choice;
    }

    /// <summary>A span for a granted reservation, under the attempt it is for: the candidates, the silos chosen, and why.</summary>
    private static void TracePlacement(SlotRequest request, IReadOnlyList<SiloCapacity> silos, SlotReservation choice)
    {
        if (!ActivityContext.TryParse(request.TraceParent, null, isRemote: true, out var attempt)) return;
        if (request.TraceDirectory is { } directory) ExperimentTraces.Register(attempt.TraceId.ToHexString(), directory);
        var candidates = silos
            .Select(s => (Silo: s, Pool: SlotChoice.IndexOf(s, request.DeviceClass)))
            .Where(c => c.Pool >= 0 && c.Silo.Busy[c.Pool] < c.Silo.Pools[c.Pool].Devices)
            .Select(c => $"{c.Silo.Name} (${c.Silo.Pools[c.Pool].DollarsPerHour}/h, throughput {c.Silo.Pools[c.Pool].RelativeThroughput})")
            .ToList();
        var previous = Activity.Current;
        Activity.Current = null;   // under the attempt, not under the grain call that asked
        try
        {
            using var span = ExperimentTelemetry.Placement.StartActivity("placement", ActivityKind.Internal, attempt);
            if (span is null) return;
            span.SetTag("moe.job.attempt", request.Attempt);
            span.SetTag("moe.device_class", request.DeviceClass);
            span.SetTag("moe.placement.ranks", request.Ranks);
            span.SetTag("moe.placement.candidates", string.Join("; ", candidates));
            span.SetTag("moe.placement.chosen", string.Join(", ", choice.Slots.Select(s => s.SiloName)));
            span.SetTag("moe.placement.reason", $"cheapest per unit of throughput among {candidates.Count} silos of class {request.DeviceClass} with a free device");
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    public async Task ReleaseAsync(string jobKey, int? attempt = null)
    {
        if (!state.State.Reservations.TryGetValue(jobKey, out var held) || (attempt is { } a && held.Attempt != a)) return;
        state.State.Reservations.Remove(jobKey);
        await state.WriteRetryingAsync(logger, "the slot ledger");
    }

    public Task<IReadOnlyList<SiloView>> GetSilosAsync()
    {
        var views = new List<SiloView>();
        foreach (var member in ActiveMembers())
        {
            var key = SiloPinnedPlacement.KeyOf(member.SiloAddress);
            IReadOnlyList<DevicePool> pools;
            string? problem = null;
            try
            {
                pools = DevicePoolMetadata.Parse(metadata.GetSiloMetadata(member.SiloAddress).Metadata);
            }
            catch (SiloMetadataException e)
            {
                (pools, problem) = ([], e.Message);
            }
            var held = state.State.Reservations.Where(r => r.Value.Slots.Any(s => s.Silo == key)).ToList();
            views.Add(new SiloView
            {
                Silo = key,
                Name = member.Name,
                Pools = pools,
                Busy = pools.Select(p => held.Sum(r => r.Value.Slots.Count(s => s.Silo == key && s.Class == p.Class))).ToList(),
                Jobs = held.Select(r => $"{r.Key}#{r.Value.Attempt}").OrderBy(j => j, StringComparer.Ordinal).ToList(),
                Problem = problem,
            });
        }
        return Task.FromResult<IReadOnlyList<SiloView>>(views.OrderBy(v => v.Name, StringComparer.Ordinal).ToList());
    }

    public Task DrainAsync(string silo)
    {
        if (_draining.Add(silo)) LogDraining(logger, silo);
        return Task.CompletedTask;
    }

    public async Task ReconcileAsync()
    {
        var live = ActiveMembers().Select(m => SiloPinnedPlacement.KeyOf(m.SiloAddress)).ToHashSet();
        _draining.IntersectWith(live);
        var lost = state.State.Reservations.Where(r => r.Value.Slots.Any(s => !live.Contains(s.Silo))).ToList();
        if (lost.Count == 0) return;
        foreach (var (jobKey, entry) in lost) state.State.Reservations.Remove(jobKey);
        await state.WriteRetryingAsync(logger, "the slot ledger");
        foreach (var (jobKey, entry) in lost)
        {
            var gone = entry.Slots.First(s => !live.Contains(s.Silo));
            LogSiloLost(logger, jobKey, entry.Attempt, gone.Grant?.SiloName ?? gone.Silo);
            if (entry.Owner is { } owner)
                await GrainFactory.GetGrain<IJobGrain>(GrainId.Parse(owner)).SiloLostAsync(entry.Attempt, gone.Grant?.SiloName ?? gone.Silo);
        }
    }

    /// <summary>Requests that could not be served, in the order they first asked; each asks again every second while it waits.</summary>
    private readonly List<Waiter> _waiters = [];

    private sealed record Waiter(string JobKey, SlotRequest Request, DateTimeOffset Since)
    {
        public DateTimeOffset LastAsked { get; set; } = Since;
    }

    private void Waiting(SlotRequest request)
    {
        var now = DateTimeOffset.UtcNow;
        if (_waiters.Find(w => w.JobKey == request.JobKey) is { } waiter)
        {
            waiter.LastAsked = now;
            return;
        }
        _waiters.Add(new Waiter(request.JobKey, request, now));
    }

    /// <summary>A waiter that stopped asking (cancelled, or its owner is gone) gives up its place.</summary>
    private void ExpireWaiters() => _waiters.RemoveAll(w => DateTimeOffset.UtcNow - w.LastAsked > TimeSpan.FromSeconds(5));

    private IEnumerable<ClusterMember> ActiveMembers() =>
        membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active);

    private List<SiloCapacity> LiveSilos()
    {
        var silos = new List<SiloCapacity>();
        foreach (var member in ActiveMembers().Where(m => !_draining.Contains(SiloPinnedPlacement.KeyOf(m.SiloAddress))))
        {
            var entries = metadata.GetSiloMetadata(member.SiloAddress).Metadata;
            IReadOnlyList<DevicePool> pools;
            try
            {
                pools = DevicePoolMetadata.Parse(entries);
            }
            catch (SiloMetadataException)
            {
                continue;   // a silo with unreadable metadata offers nothing (it refuses to start, so this is an older build)
            }
            var key = SiloPinnedPlacement.KeyOf(member.SiloAddress);
            var slots = state.State.Reservations.Values.SelectMany(r => r.Slots).Where(s => s.Silo == key).ToList();
            silos.Add(new SiloCapacity(key, member.Name, entries.GetValueOrDefault(DevicePoolMetadata.HostKey, member.SiloAddress.Endpoint.Address.ToString()),
                pools, pools.Select(p => slots.Count(s => s.Class == p.Class)).ToList(),
                int.TryParse(entries.GetValueOrDefault(DevicePoolMetadata.CoresKey), out var cores) ? cores : 1));
        }
        return silos;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reserved {JobKey} attempt {Attempt} on {Slots}")]
    private static partial void LogReserved(ILogger logger, string jobKey, int attempt, string slots);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} is shutting down; no job is placed on it any more")]
    private static partial void LogDraining(ILogger logger, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} left the cluster; {JobKey} attempt {Attempt} loses its slot and is re-placed")]
    private static partial void LogSiloLost(ILogger logger, string jobKey, int attempt, string silo);
}
