using System.Runtime;
using System.Runtime.InteropServices;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Bench;

/// <summary>What the figures depend on: libtorch, threads, OpenMP's wait policy, cores, BLAS.</summary>
internal static class BenchEnvironment
{
    /// <summary>
    /// A variable as the native side sees it: the binding sets OMP_WAIT_POLICY with libc's setenv
    /// when it loads libtorch, which <see cref="Environment.GetEnvironmentVariable(string)"/> does not see.
    /// </summary>
    public static string? NativeVariable(string name)
    {
        var p = getenv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    /// <summary>The BLAS shared libraries mapped into this process (libtorch loads one lazily).</summary>
    public static string LoadedBlas()
    {
        try
        {
            var libs = File.ReadLines("/proc/self/maps")
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
                .Where(path => path.Contains("blas", StringComparison.OrdinalIgnoreCase) && path.StartsWith('/'))
                .Distinct()
                .Select(ResolveLink);
            var text = string.Join(", ", libs.Distinct());
            return text.Length == 0 ? "(none mapped)" : text;
        }
        catch (IOException)
        {
            return "(unknown: /proc/self/maps unreadable)";
        }
    }

    /// <summary>The 1-minute load average, flagged when other work competes for the cores.</summary>
    public static string LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            var load = double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
            return load > 0.5 * Environment.ProcessorCount
                ? $"{first} (other work is running: figures will be noisy)"
                : first;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return "(unknown)";
        }
    }

    private static string ResolveLink(string path)
    {
        var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
        return target?.FullName ?? path;
    }

    public static IEnumerable<(string Key, string Value)> Describe(BenchSettings s) =>
    [
        ("libtorch", TorchRuntime.Version),
        ("cpu count", Environment.ProcessorCount.ToString()),
        ("threads (small ops)", s.SmallThreads.ToString()),
        ("threads (matmul)", s.MatmulThreads.ToString()),
        ("OMP_WAIT_POLICY (as libtorch sees it)", NativeVariable("OMP_WAIT_POLICY") ?? "(unset)"),
        ("OMP_NUM_THREADS", NativeVariable("OMP_NUM_THREADS") ?? "(unset)"),
        ("OPENBLAS_NUM_THREADS", NativeVariable("OPENBLAS_NUM_THREADS") ?? "(unset)"),
        (".NET", $"{RuntimeInformation.FrameworkDescription}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC"),
        ("warm-up / reps", $"{Harness.Warmup.TotalSeconds:0.##} s, median of {s.SmallReps} x {s.SmallIters} (small ops), {s.MatmulReps} x {s.MatmulIters} (matmul)"),
    ];

    [DllImport("libc")]
    private static extern IntPtr getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
