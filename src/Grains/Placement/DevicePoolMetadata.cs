using System.Globalization;

namespace Orleans.MoE.Grains.Placement;

/// <summary>
/// A silo's device pools as Orleans silo metadata (<c>Orleans:Metadata:*</c>, or environment
/// variables <c>Orleans__Metadata__pool0_class=low-cost</c>): pool i has <c>pool{i}_class</c> (required),
/// <c>pool{i}_kind</c> (cpu or cuda), <c>pool{i}_devices</c>, <c>pool{i}_memory_gib</c>,
/// <c>pool{i}_dollars_per_hour</c>, <c>pool{i}_relative_throughput</c> and <c>pool{i}_threads_per_device</c>.
/// The silo adds <c>cores</c> (its processor count) and <c>host</c> (its advertised address) itself.
/// </summary>
public static class DevicePoolMetadata
{
    public const string CoresKey = "cores";
    public const string HostKey = "host";

    private static readonly string[] Fields = ["class", "kind", "devices", "memory_gib", "dollars_per_hour", "relative_throughput", "threads_per_device"];
    private static readonly string[] Kinds = ["cpu", "cuda"];

    /// <summary>The metadata entries that declare the pools.</summary>
    public static Dictionary<string, string> Format(IReadOnlyList<DevicePool> pools)
    {
        var entries = new Dictionary<string, string>();
        for (var i = 0; i < pools.Count; i++)
        {
            var p = pools[i];
            entries[$"pool{i}_class"] = p.Class;
            entries[$"pool{i}_kind"] = p.Kind;
            entries[$"pool{i}_devices"] = p.Devices.ToString(CultureInfo.InvariantCulture);
            entries[$"pool{i}_memory_gib"] = p.MemoryGib.ToString("R", CultureInfo.InvariantCulture);
            entries[$"pool{i}_dollars_per_hour"] = p.DollarsPerHour.ToString("R", CultureInfo.InvariantCulture);
            entries[$"pool{i}_relative_throughput"] = p.RelativeThroughput.ToString("R", CultureInfo.InvariantCulture);
            entries[$"pool{i}_threads_per_device"] = p.ThreadsPerDevice.ToString(CultureInfo.InvariantCulture);
        }
        return entries;
    }

    /// <summary>Reads the pools, or throws <see cref="SiloMetadataException"/> listing every malformed key.</summary>
    public static IReadOnlyList<DevicePool> Parse(IReadOnlyDictionary<string, string> metadata)
    {
        var problems = new List<string>();
        var byIndex = new SortedDictionary<int, Dictionary<string, string>>();
        foreach (var (key, value) in metadata)
        {
            if (!key.StartsWith("pool", StringComparison.Ordinal)) continue;
            var separator = key.IndexOf('_');
            if (separator < 5 || !int.TryParse(key.AsSpan(4, separator - 4), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                || !Fields.Contains(key[(separator + 1)..]))
            {
                problems.Add($"{key}: not a pool field; pool i is declared by pool{{i}}_{string.Join(", pool{i}_", Fields)}");
                continue;
            }
            (byIndex.TryGetValue(index, out var fields) ? fields : byIndex[index] = [])[key[(separator + 1)..]] = value;
        }
        var pools = new List<DevicePool>();
        var expected = 0;
        foreach (var (index, fields) in byIndex)
        {
            if (index != expected) problems.Add($"pool{expected}_class: missing; pools are numbered from 0 without gaps (found pool{index}_*)");
            expected = index + 1;
            if (ReadPool(index, fields, problems) is { } pool) pools.Add(pool);
        }
        foreach (var group in pools.GroupBy(p => p.Class).Where(g => g.Count() > 1))
            problems.Add($"pool*_class: class '{group.Key}' is declared by {group.Count()} pools; give each class one pool");
        if (problems.Count > 0) throw new SiloMetadataException(problems);
        return pools;
    }

    private static DevicePool? ReadPool(int i, Dictionary<string, string> fields, List<string> problems)
    {
        var before = problems.Count;
        string Key(string field) => $"pool{i}_{field}";
        if (!fields.TryGetValue("class", out var name) || string.IsNullOrWhiteSpace(name))
            problems.Add($"{Key("class")}: missing; name the device class of pool {i}, e.g. low-cost or high-memory");
        var kind = fields.GetValueOrDefault("kind", "cpu");
        if (!Kinds.Contains(kind)) problems.Add($"{Key("kind")}: '{kind}' is not a device kind; use {string.Join(" or ", Kinds)}");
        var devices = Number(fields, Key, "devices", 1, v => v >= 1 && v == Math.Floor(v), "a whole number of at least 1 (job slots)", problems);
        var memory = Number(fields, Key, "memory_gib", 0, v => v >= 0, "0 or more (GiB per device)", problems);
        var price = Number(fields, Key, "dollars_per_hour", 0, v => v >= 0, "0 or more (dollars per device-hour)", problems);
        var throughput = Number(fields, Key, "relative_throughput", 1, v => v > 0, "positive (1 = the reference machine)", problems);
        var threads = Number(fields, Key, "threads_per_device", 0, v => v >= 0 && v == Math.Floor(v), "a whole number, 0 = share the silo's cores", problems);
        if (problems.Count > before) return null;
        return new DevicePool
        {
            Class = name!, Kind = kind, Devices = (int)devices, MemoryGib = memory, DollarsPerHour = price,
            RelativeThroughput = throughput, ThreadsPerDevice = (int)threads,
        };
    }

    private static double Number(Dictionary<string, string> fields, Func<string, string> key, string field, double fallback,
        Func<double, bool> valid, string allowed, List<string> problems)
    {
        if (!fields.TryGetValue(field, out var text)) return fallback;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && valid(value)) return value;
        problems.Add($"{key(field)}: '{text}' is not valid; it must be {allowed}");
        return fallback;
    }
}

/// <summary>A silo's metadata does not declare its pools correctly; every problem names its key.</summary>
public sealed class SiloMetadataException(IReadOnlyList<string> problems)
    : Exception("silo metadata (Orleans:Metadata, or Orleans__Metadata__* variables) is not valid:\n  " + string.Join("\n  ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
