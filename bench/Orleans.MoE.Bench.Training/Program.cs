using System.Runtime.InteropServices;
using Orleans.MoE.Bench.Training;
using Orleans.MoE.Config;
using Orleans.MoE.Torch;

// Training throughput and MFU of the C# trainer against the same model in PyTorch eager (Debian's
// python3-torch, the same libtorch), measured in the same run; with `routed` first, the routed layers'
// fused kernels against the reference ones and the peak memory of training steps with each. Figures
// are printed, never asserted; see bench/README.md for how to read them.

if (args.Length > 0 && args[0] == PeakMemoryChild.Command) return PeakMemoryChild.Run(args[1..]);
var routedLayers = args.Length > 0 && args[0] == "routed";

TrainingBenchOptions options;
try
{
    options = TrainingBenchOptions.Parse(routedLayers ? args[1..] : args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

try
{
    if (routedLayers)
    {
        TorchRuntime.Threads = options.Threads;
        return RoutedLayerBenchmark.Run(options, Environment.ProcessPath);
    }
    return Run(options);
}
catch (Exception e) when (e is InvalidOperationException or IOException or ConfigException or ArgumentException)
{
    Console.Error.WriteLine($"training benchmark: {e.Message}");
    return 1;
}

static int Run(TrainingBenchOptions options)
{
    var loadAtStart = LoadAverage();
    var repoRoot = FindRepoRoot();
    var configs = options.Configs
        .Select(c => Path.IsPathRooted(c) || File.Exists(c) ? Path.GetFullPath(c) : Path.Combine(repoRoot, "bench", "Orleans.MoE.Bench.Training", "configs", c))
        .ToArray();

    // Loading the binding applies its thread defaults (OMP_WAIT_POLICY) before libtorch starts.
    TorchRuntime.Threads = options.Threads;
    var ompWaitPolicy = NativeVariable("OMP_WAIT_POLICY");
    using var pytorch = PyTorchEagerProcess.Start(options.Python, Path.Combine(repoRoot, "bench", "python", "torch_train_step.py"), ompWaitPolicy);
    var pytorchThreads = pytorch.SetThreads(options.Threads);
    if (pytorchThreads != TorchRuntime.Threads)
        throw new InvalidOperationException($"thread counts differ: C# {TorchRuntime.Threads}, PyTorch {pytorchThreads}");

    var report = new TrainingReport(Console.Out);
    var peak = PeakMatmul.Measure(pytorch);
    var results = configs.Select(c => TrainingBenchmark.Run(c, options, pytorch, Console.Error)).ToList();

    report.Header(
    [
        ("libtorch", TorchRuntime.Version),
        ("PyTorch side", $"{options.Python} bench/python/torch_train_step.py"),
        ("cpu count", Environment.ProcessorCount.ToString()),
        ("threads (both sides)", TorchRuntime.Threads.ToString()),
        ("OMP_WAIT_POLICY (both sides)", ompWaitPolicy ?? "(unset)"),
        ("load average (1 min, start / end)", $"{loadAtStart} / {LoadAverage()}"),
    ]);
    report.Peak(peak, TorchRuntime.Threads);
    report.Configs(results, peak, options);
    report.Phases(results);
    report.Results();
    return 0;
}

static string FindRepoRoot()
{
    foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "bench", "python", "torch_train_step.py"))) return dir.FullName;
        }
    }
    throw new DirectoryNotFoundException(
        "bench/python/torch_train_step.py was not found above the current folder or the benchmark's folder; " +
        "run the benchmark from the repository (e.g. `make bench`).");
}

// The 1-minute load average, flagged when other work competes for the cores.
static string LoadAverage()
{
    try
    {
        var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        var load = double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        return load > 0.5 * Environment.ProcessorCount ? $"{first} (other work is running: figures will be noisy)" : first;
    }
    catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
    {
        return "(unknown)";
    }
}

// A variable as libtorch sees it: the binding sets OMP_WAIT_POLICY with libc's setenv.
static string? NativeVariable(string name)
{
    var p = Getenv(name);
    return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
}

[DllImport("libc", EntryPoint = "getenv")]
static extern IntPtr Getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
