using System.Diagnostics;
using System.Reflection;

namespace Orleans.MoE.Grains.Telemetry;

/// <summary>
/// Gives a started <see cref="Activity"/> a trace id and span id chosen earlier. System.Diagnostics
/// has no public way to do so (its ids are drawn at Start), and a span that outlives its process
/// needs it (<see cref="PersistedSpan"/>): this sets the W3C id fields Activity keeps as hex text.
/// A runtime that renames them fails here, loudly, at the first use (and in the tests).
/// </summary>
internal static class ActivityIds
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic;

    private static readonly FieldInfo TraceIdField = Field("_traceId");
    private static readonly FieldInfo SpanIdField = Field("_spanId");
    private static readonly FieldInfo IdField = Field("_id");

    public static void Set(Activity activity, string traceId, string spanId)
    {
        TraceIdField.SetValue(activity, traceId);
        SpanIdField.SetValue(activity, spanId);
        IdField.SetValue(activity, null);   // recomputed from the two on its next read
        if (activity.TraceId.ToHexString() != traceId || activity.SpanId.ToHexString() != spanId)
            throw new NotSupportedException("this .NET runtime's Activity does not take restored ids; persisted spans cannot be emitted");
    }

    private static FieldInfo Field(string name) =>
        typeof(Activity).GetField(name, Instance) is { FieldType: var t } f && t == typeof(string) ? f
            : throw new NotSupportedException($"System.Diagnostics.Activity has no string field {name} in this .NET runtime; persisted spans cannot be emitted");
}
