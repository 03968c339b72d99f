using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Training.Parallel;

/// <summary>
/// One traffic counter per (layer, collective) on this rank, e.g. (3, "dispatch") for the all-to-all
/// that brings layer 3's sub-tokens to their heads, or (null, "gradients") for the gradient all-reduce.
/// Read once per step, it gives the bytes each collective moved in that step (backward passes included).
/// </summary>
public sealed class CommunicationLedger : IDisposable
{
    private readonly Dictionary<(int? Layer, string Collective), TrafficCounter> _counters = [];
    private readonly object _lock = new();

    public TrafficCounter For(int? layer, string collective)
    {
        lock (_lock)
        {
            if (!_counters.TryGetValue((layer, collective), out var counter))
                _counters[(layer, collective)] = counter = new TrafficCounter();
            return counter;
        }
    }

    /// <summary>Every counter's totals since the last call, in (layer, collective) order, and starts them again from zero.</summary>
    public IReadOnlyList<CommunicationRecord> ReadAndReset()
    {
        lock (_lock)
        {
            return _counters.OrderBy(kv => kv.Key.Layer ?? -1).ThenBy(kv => kv.Key.Collective, StringComparer.Ordinal)
                .Select(kv => new CommunicationRecord(kv.Key.Layer, kv.Key.Collective, kv.Value.ReadAndReset()))
                .ToArray();
        }
    }

    public void Dispose()
    {
        foreach (var c in _counters.Values) c.Dispose();
    }
}

/// <summary>The bytes one collective of one layer (null: not tied to a layer) moved on this rank.</summary>
public sealed record CommunicationRecord(int? Layer, string Collective, TrafficTotals Traffic);
