using System.Globalization;
using Orleans.MoE.Grains.Placement;

namespace Orleans.MoE.Silo.Hosting;

/// <summary>
/// Fills in the cuda pools of a silo's metadata from its GPUs before the pools are parsed:
/// <c>pool{i}_devices=auto</c> becomes the number of GPUs libtorch sees, and an absent or
/// <c>auto</c> <c>pool{i}_memory_gib</c> the smallest GPU's memory. A cuda pool on a machine whose
/// libtorch sees no GPU, or one that declares more devices than it sees, stops the silo at startup
/// with the reason, instead of failing every job placed on it later. CPU pools are left alone and
/// never ask libtorch anything.
/// </summary>
public static class GpuPoolResolver
{
    public const string Auto = "auto";

    /// <param name="metadata">the configured metadata (Orleans:Metadata)</param>
    /// <param name="query">the GPU inventory, asked at most once and only when a cuda pool is declared</param>
    /// <exception cref="SiloMetadataException">a cuda pool cannot be served here; every problem names its key</exception>
    public static Dictionary<string, string> Resolve(IReadOnlyDictionary<string, string> metadata, Func<GpuInventory> query)
    {
        var resolved = new Dictionary<string, string>(metadata);
        var cudaPools = metadata.Where(kv => kv.Key.StartsWith("pool", StringComparison.Ordinal) && kv.Key.EndsWith("_kind", StringComparison.Ordinal) && kv.Value == "cuda")
            .Select(kv => kv.Key[..^"_kind".Length]).OrderBy(p => p, StringComparer.Ordinal).ToList();
        var problems = new List<string>();
        foreach (var key in metadata.Keys.Where(k => metadata[k] == Auto && !cudaPools.Any(p => k == $"{p}_devices" || k == $"{p}_memory_gib")))
            problems.Add($"{key}: 'auto' is only resolved for the devices and memory_gib of a pool of kind cuda; give a number");
        if (cudaPools.Count == 0)
        {
            if (problems.Count > 0) throw new SiloMetadataException(problems);
            return resolved;
        }

        var gpus = query();
        foreach (var pool in cudaPools)
        {
            if (gpus.Absence is { } why)
            {
                problems.Add($"{pool}_kind: cuda, but this silo has no GPU to serve it: {why}; declare the pool with kind cpu, or start the silo on a GPU machine");
                continue;
            }
            var devicesKey = $"{pool}_devices";
            if (!metadata.TryGetValue(devicesKey, out var devices) || devices == Auto)
            {
                resolved[devicesKey] = gpus.Count.ToString(CultureInfo.InvariantCulture);
            }
            else if (int.TryParse(devices, NumberStyles.None, CultureInfo.InvariantCulture, out var declared) && declared > gpus.Count)
            {
                problems.Add($"{devicesKey}: {declared} GPUs declared, but libtorch sees {gpus.Count} ({gpus.Libtorch}); declare at most {gpus.Count}, or 'auto'");
            }
            var memoryKey = $"{pool}_memory_gib";
            if (!metadata.TryGetValue(memoryKey, out var memory) || memory == Auto)
                resolved[memoryKey] = Math.Round(gpus.TotalBytes.Min() / (double)(1L << 30), 1).ToString("R", CultureInfo.InvariantCulture);
        }
        if (problems.Count > 0) throw new SiloMetadataException(problems);
        return resolved;
    }
}
