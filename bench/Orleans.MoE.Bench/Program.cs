using Orleans.MoE.Bench;
using Orleans.MoE.Torch;

// Benchmarks of the libtorch binding against a C++ program on the same libtorch, measured in the
// same run. Figures are printed, never asserted; see bench/README.md for how to read them.

BenchSettings settings;
try
{
    settings = BenchSettings.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var output = Console.Out;
var report = new Report(output);

var loadAtStart = BenchEnvironment.LoadAverage();

// Loading the binding applies its thread defaults (OMP_WAIT_POLICY) before libtorch starts.
_ = TorchRuntime.Version;
NativeReference reference;
try
{
    var repoRoot = NativeReference.FindRepoRoot();
    var nativeLibrary = Environment.GetEnvironmentVariable("MOE_NATIVE_LIBRARY") is { Length: > 0 } explicitPath
        ? Path.GetFullPath(explicitPath)
        : Path.Combine(repoRoot, "build", "native", "libmoe_native.so");
    var executable = NativeReference.Build(repoRoot, nativeLibrary, Console.Error);
    reference = NativeReference.Start(executable, BenchEnvironment.NativeVariable("OMP_WAIT_POLICY"));
}
catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
{
    Console.Error.WriteLine($"the C++ reference could not be built or started: {e.Message}");
    return 1;
}
using var referenceProcess = reference;
var referenceEnvironment = reference.ReportEnvironment();

// ---- small ops: the same thread count on both sides
TorchRuntime.Threads = settings.SmallThreads;
var smallThreads = TorchRuntime.Threads;
var referenceSmallThreads = reference.SetThreads(settings.SmallThreads);
if (referenceSmallThreads != smallThreads)
    throw new InvalidOperationException($"thread counts differ: C# {smallThreads}, C++ {referenceSmallThreads}");
using var a = Tensor.Randn([16]); // (16,) fp32
using var b = Tensor.Randn([16]); // (16,) fp32
var small = SmallOps.All.Select(op => SmallOps.Measure(op, a, b, settings, reference)).ToList();
var components = settings.Profile ? OverheadBreakdown.Measure(a, settings) : [];

// ---- matmul
var matmul = Matmul.Measure(settings, reference);

report.Header(BenchEnvironment.Describe(settings with { SmallThreads = smallThreads })
    .Append(("libtorch (C++ reference)", referenceEnvironment["torch_version"]))
    .Append(("OMP_WAIT_POLICY (C++ reference)", referenceEnvironment["omp_wait_policy"]))
    .Append(("BLAS mapped", BenchEnvironment.LoadedBlas()))
    .Append(("load average (1 min, at start)", loadAtStart)));
report.SmallOps(smallThreads, small);
report.Matmul(matmul);
if (settings.Profile) report.Breakdown(small.Single(r => r.Op == "add"), components);
report.Results();
return 0;
