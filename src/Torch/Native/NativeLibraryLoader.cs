using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Orleans.MoE.Torch.Native;

/// <summary>
/// Finds libmoe_native.so and applies the thread defaults that must be in the environment before
/// libtorch's OpenMP runtime loads.
/// </summary>
internal static class NativeLibraryLoader
{
    /// <summary>Overrides where the native library is loaded from (a full path).</summary>
    public const string LibraryPathVariable = "MOE_NATIVE_LIBRARY";

    private const string FileName = "libmoe_native.so";

    // A library module initializer is exactly what is needed here: the resolver must be in place
    // before the first P/Invoke of any type in this assembly.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != NativeMethods.Library) return IntPtr.Zero;
        ApplyThreadEnvironmentDefaults();
        foreach (var candidate in Candidates())
        {
            if (File.Exists(candidate)) return NativeLibrary.Load(candidate);
        }
        throw new DllNotFoundException(
            $"{FileName} was not found (looked in {string.Join(", ", Candidates())}). " +
            $"Build it with `make native` from the repository root, or set {LibraryPathVariable} to its path.");
    }

    private static IEnumerable<string> Candidates()
    {
        var explicitPath = Environment.GetEnvironmentVariable(LibraryPathVariable);
        if (!string.IsNullOrEmpty(explicitPath)) yield return explicitPath;
        yield return Path.Combine(AppContext.BaseDirectory, FileName);
        // A checkout: walk up to the repository root's build folder.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var built = Path.Combine(dir.FullName, "build", "native", FileName);
            if (File.Exists(built)) { yield return built; yield break; }
        }
    }

    /// <summary>
    /// OpenMP's default busy-waiting makes libtorch's threads and OpenBLAS's threads fight for the
    /// same cores on small machines (a small MoE step measured 1,699 ms busy vs 836 ms passive on
    /// 2 cores). libgomp reads its environment once, when it loads, and .NET keeps its own copy of
    /// the environment, so the value is written into the process environment with libc's setenv.
    /// A value the user set is kept.
    /// </summary>
    /// <para>
    /// libtorch sizes its thread pool by physical cores, which on a machine with two hyperthreads
    /// of one core is a single thread; every core the process may use (the cgroup-aware
    /// <see cref="Environment.ProcessorCount"/>) is the better default for training. An
    /// OMP_NUM_THREADS the user set is kept, and <see cref="TorchRuntime.Threads"/> changes it later.
    /// </para>
    private static void ApplyThreadEnvironmentDefaults()
    {
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
        {
            setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
        }
        if (Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null)
        {
            setenv("OMP_NUM_THREADS", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture), 0);
        }
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
