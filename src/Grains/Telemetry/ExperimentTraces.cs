using System.Collections.Concurrent;
using System.Diagnostics;

namespace Orleans.MoE.Grains.Telemetry;

/// <summary>
/// Which experiment directory each trace of this process belongs to, so that the file exporter
/// writes a span into its experiment's directory. Grains register the traces they emit into
/// (directories relative to the artifact store), a worker the trace of its job.
/// </summary>
public static class ExperimentTraces
{
    private static readonly ConcurrentDictionary<ActivityTraceId, string> Directories = new();

    public static void Register(string traceId, string directory) => Directories[ActivityTraceId.CreateFromString(traceId)] = directory;

    public static bool TryGetDirectory(ActivityTraceId traceId, out string directory) => Directories.TryGetValue(traceId, out directory!);
}
