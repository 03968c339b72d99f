using System.Diagnostics;
using System.Globalization;

namespace Orleans.MoE.Bench;

/// <summary>
/// The C++ reference, bench/native/op_overhead.cpp: built with CMake into build/bench-native
/// (CMake recompiles only when the source changed), started once under the same thread environment
/// as this process, and driven line by line over its stdin (see the protocol in the source).
/// </summary>
internal sealed class NativeReference : IDisposable
{
    private readonly Process _process;

    private NativeReference(Process process) => _process = process;

    /// <summary>The repository root: the first folder upwards that holds bench/native/CMakeLists.txt.</summary>
    public static string FindRepoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "bench", "native", "CMakeLists.txt"))) return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException(
            "bench/native/CMakeLists.txt was not found above the current folder or the benchmark's folder; " +
            "run the benchmark from the repository (e.g. `make bench`).");
    }

    /// <summary>Configures (first time only) and builds the reference; returns the executable's path.</summary>
    public static string Build(string repoRoot, string nativeLibrary, TextWriter log)
    {
        if (!File.Exists(nativeLibrary))
            throw new FileNotFoundException(
                $"{nativeLibrary} does not exist; build the native library first with `make native` " +
                "(or set MOE_NATIVE_LIBRARY to its path).", nativeLibrary);
        var source = Path.Combine(repoRoot, "bench", "native");
        var build = Path.Combine(repoRoot, "build", "bench-native");
        var cache = Path.Combine(build, "CMakeCache.txt");
        if (File.Exists(cache) && !CacheMatches(cache, source, nativeLibrary))
        {
            // Configured for another checkout or another native library: start that build afresh.
            log.WriteLine($"C++ reference: {build} was configured elsewhere; reconfiguring");
            Directory.Delete(build, recursive: true);
        }
        if (!File.Exists(cache))
        {
            log.WriteLine($"C++ reference: configuring {build}");
            RunTool("cmake", ["-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release", $"-DMOE_NATIVE_LIBRARY={nativeLibrary}"]);
        }
        // Incremental: compiles only when op_overhead.cpp or CMakeLists.txt changed (~30 s when it does).
        var output = RunTool("cmake", ["--build", build]);
        log.WriteLine(output.Contains("Building CXX", StringComparison.Ordinal)
            ? "C++ reference: compiled (first build, or bench/native changed)"
            : "C++ reference: up to date");
        return Path.Combine(build, "op_overhead");
    }

    /// <summary>
    /// Starts the reference. The binding writes its OMP_WAIT_POLICY default with libc's setenv,
    /// which .NET's copy of the environment (what a child inherits) does not see: the effective
    /// value is passed on explicitly.
    /// </summary>
    public static NativeReference Start(string executable, string? ompWaitPolicy)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (ompWaitPolicy is null) start.Environment.Remove("OMP_WAIT_POLICY");
        else start.Environment["OMP_WAIT_POLICY"] = ompWaitPolicy;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {executable}");
        return new NativeReference(process);
    }

    /// <summary>Sends one command and returns the reply's words after the expected keyword.</summary>
    public string[] Send(string command, string expectedReply)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
        var line = _process.StandardOutput.ReadLine()
            ?? throw new InvalidOperationException($"the C++ reference exited (code {ExitCode()}) on '{command}'");
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0] != expectedReply)
            throw new InvalidOperationException($"the C++ reference answered '{line}' to '{command}'");
        return words[1..];
    }

    public int SetThreads(int threads) => int.Parse(Send($"threads {threads}", "threads")[0], CultureInfo.InvariantCulture);

    public IReadOnlyDictionary<string, string> ReportEnvironment() =>
        Send("env", "env").Select(w => w.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);

    /// <summary>One of the reference's loops, as a side for <see cref="Harness"/>.</summary>
    public ITimedSide Side(string column, string op) => new RemoteSide(this, column, op);

    private sealed class RemoteSide(NativeReference reference, string column, string op) : ITimedSide
    {
        public void Warm(TimeSpan duration) =>
            reference.Send(FormattableString.Invariant($"warm {column} {op} {duration.TotalSeconds}"), "warmed");

        public Timing Run(int iters)
        {
            var reply = reference.Send($"run {column} {op} {iters}", "seconds");
            return new Timing(double.Parse(reply[0], CultureInfo.InvariantCulture), double.Parse(reply[1], CultureInfo.InvariantCulture));
        }
    }

    private string ExitCode() => _process.HasExited ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "still running";

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) _process.Kill();
            }
        }
        catch (IOException)
        {
            // The reference already closed its end; nothing left to stop.
        }
        _process.Dispose();
    }

    private static bool CacheMatches(string cache, string source, string nativeLibrary)
    {
        var lines = File.ReadAllLines(cache);
        string? Value(string key) => lines.FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal))?.Split('=', 2)[1];
        return Value("CMAKE_HOME_DIRECTORY") == source && Value("MOE_NATIVE_LIBRARY") == nativeLibrary;
    }

    /// <summary>Runs a build tool to completion and returns its standard output.</summary>
    private static string RunTool(string tool, string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {tool}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"`{tool} {string.Join(' ', args)}` failed with exit code {process.ExitCode}:\n{stdout}\n{stderr.Result}");
        return stdout;
    }
}
