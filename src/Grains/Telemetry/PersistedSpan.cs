using System.Diagnostics;

namespace Orleans.MoE.Grains.Telemetry;

/// <summary>
/// A span that outlives the activation that began it (an experiment, a phase, a job attempt): its
/// ids and start are chosen when it begins and persisted in grain state, children (in any process)
/// name it as their parent from the start, and whichever activation sees it end emits it with those
/// same ids. So the tree stays connected across re-activations and silo kills.
/// </summary>
[GenerateSerializer]
[Alias("moe.PersistedSpan")]
public sealed record PersistedSpan
{
    [Id(0)] public required string TraceId { get; init; }

    [Id(1)] public required string SpanId { get; init; }

    /// <summary>The parent's span id; null for the experiment's root.</summary>
    [Id(2)] public string? ParentSpanId { get; init; }

    [Id(3)] public required DateTimeOffset Start { get; init; }

    /// <summary>Emitted (its end is recorded): it is not emitted again.</summary>
    [Id(4)] public bool Ended { get; init; }

    /// <summary>A new trace's root span, beginning now.</summary>
    public static PersistedSpan NewRoot() => new()
    {
        TraceId = ActivityTraceId.CreateRandom().ToHexString(), SpanId = ActivitySpanId.CreateRandom().ToHexString(), Start = DateTimeOffset.UtcNow,
    };

    /// <summary>A child of this span, beginning now.</summary>
    public PersistedSpan Child() => new()
    {
        TraceId = TraceId, SpanId = ActivitySpanId.CreateRandom().ToHexString(), ParentSpanId = SpanId, Start = DateTimeOffset.UtcNow,
    };

    /// <summary>A child of the span a W3C traceparent names, beginning now; null when there is none or it does not parse.</summary>
    public static PersistedSpan? ChildOf(string? traceParent) =>
        ActivityContext.TryParse(traceParent, null, out var parent)
            ? new PersistedSpan { TraceId = parent.TraceId.ToHexString(), SpanId = ActivitySpanId.CreateRandom().ToHexString(), ParentSpanId = parent.SpanId.ToHexString(), Start = DateTimeOffset.UtcNow }
            : null;

    /// <summary>The W3C traceparent of this span (sampled), for its children in other grains and processes.</summary>
    public string TraceParent => $"00-{TraceId}-{SpanId}-01";

    public ActivityContext Context => new(ActivityTraceId.CreateFromString(TraceId), ActivitySpanId.CreateFromString(SpanId), ActivityTraceFlags.Recorded, isRemote: true);

    /// <summary>
    /// Emits the span, from <see cref="Start"/> to <paramref name="end"/>, with its own ids; nothing
    /// when no listener records the source. Returns the span marked as ended.
    /// </summary>
    public PersistedSpan Emit(ActivitySource source, string name, DateTimeOffset end, IEnumerable<KeyValuePair<string, object?>> tags,
        ActivityStatusCode status = ActivityStatusCode.Unset, string? statusDescription = null)
    {
        var ended = this with { Ended = true };
        if (!source.HasListeners()) return ended;
        var previous = Activity.Current;
        Activity.Current = null;   // the parent is the persisted one, not whatever call is running now
        try
        {
            var parent = ParentSpanId is null ? default
                : new ActivityContext(ActivityTraceId.CreateFromString(TraceId), ActivitySpanId.CreateFromString(ParentSpanId), ActivityTraceFlags.Recorded, isRemote: true);
            using var activity = source.CreateActivity(name, ActivityKind.Internal, parent, tags);
            if (activity is null) return ended;
            activity.SetStartTime(Start.UtcDateTime);
            activity.Start();
            ActivityIds.Set(activity, TraceId, SpanId);
            if (status != ActivityStatusCode.Unset) activity.SetStatus(status, statusDescription);
            activity.SetEndTime(end.UtcDateTime);
            activity.Stop();
        }
        finally
        {
            Activity.Current = previous;
        }
        return ended;
    }
}
