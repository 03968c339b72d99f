using System.Globalization;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Client.Cluster;

/// <summary>A <c>--pool</c> flag: comma-separated name=value pairs (class, kind, devices, memory-gib, price, throughput, threads).</summary>
internal static class PoolFlag
{
    private static readonly string[] Names = ["class", "kind", "devices", "memory-gib", "price", "throughput", "threads"];

    /// <summary>
    /// The metadata fields a flag leaves to the silo's GPU query (devices=auto, memory-gib=auto of a
    /// kind=cuda pool; see GpuPoolResolver), as metadata field names (devices, memory_gib).
    /// </summary>
    public static IReadOnlyList<string> AutoFields(string text)
    {
        var fields = Fields(text);
        return new[] { ("devices", "devices"), ("memory-gib", "memory_gib") }
            .Where(f => fields.GetValueOrDefault(f.Item1) == "auto").Select(f => f.Item2).ToList();
    }

    public static DevicePool Parse(string text)
    {
        var fields = Fields(text);
        if (!fields.TryGetValue("class", out var deviceClass) || deviceClass.Length == 0)
            throw new ArgumentException($"--pool {text}: class=NAME is required (e.g. class=low-cost)");
        var kind = fields.GetValueOrDefault("kind", "cpu");
        foreach (var name in new[] { "devices", "memory-gib" }.Where(n => fields.GetValueOrDefault(n) == "auto"))
        {
            if (kind != "cuda") throw new ArgumentException($"--pool {text}: {name}=auto is only for kind=cuda (the GPUs libtorch sees); give a number");
            fields.Remove(name);   // the silo fills it in from its GPUs
        }
        return new DevicePool
        {
            Class = deviceClass,
            Kind = kind,
            Devices = (int)Number(text, fields, "devices", 1),
            MemoryGib = Number(text, fields, "memory-gib", 0),
            DollarsPerHour = Number(text, fields, "price", 0),
            RelativeThroughput = Number(text, fields, "throughput", 1),
            ThreadsPerDevice = (int)Number(text, fields, "threads", 0),
        };
    }

    private static Dictionary<string, string> Fields(string text)
    {
        var fields = new Dictionary<string, string>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            var key = eq < 0 ? part : part[..eq];
            if (eq < 0 || !Names.Contains(key))
                throw new ArgumentException($"--pool {text}: '{part}' is not name=value with a name among {string.Join(", ", Names)}");
            fields[key] = part[(eq + 1)..];
        }
        return fields;
    }

    private static double Number(string text, Dictionary<string, string> fields, string name, double fallback)
    {
        if (!fields.TryGetValue(name, out var value)) return fallback;
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new ArgumentException($"--pool {text}: {name}={value} is not a number");
    }
}
