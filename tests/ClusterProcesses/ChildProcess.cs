using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Orleans.MoE.ClusterProcesses;

/// <summary>A process a test or benchmark starts and always stops (killed with its children on dispose), with its output kept.</summary>
internal sealed class ChildProcess : IDisposable
{
    private static readonly ConcurrentDictionary<ChildProcess, byte> Live = new();
    private readonly StringBuilder _output = new();

    public ChildProcess(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        Process = Process.Start(info)!;
        Live[this] = 0;
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    /// <summary>`dotnet moe.dll ARGS`, the build next to the tests.</summary>
    public static ChildProcess Moe(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        new("dotnet", [Path.Combine(AppContext.BaseDirectory, "moe.dll"), .. arguments], environment, workingDirectory);

    public Process Process { get; }

    /// <summary>Standard output and error, interleaved as they came.</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Waits for the exit and returns the exit code; fails the test if it runs past the timeout.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout)) throw new TimeoutException($"{Process.StartInfo.FileName} {string.Join(' ', Process.StartInfo.ArgumentList)} still runs after {timeout}:\n{Output}");
        Process.WaitForExit();
        return Process.ExitCode;
    }

    /// <summary>SIGKILL, no goodbye: what a machine that vanishes does.</summary>
    public void Kill() => Process.Kill(entireProcessTree: true);

    /// <summary>
    /// Kills every child process not yet disposed, with its children: for a program's SIGINT/SIGTERM
    /// handler, after which no finally block runs.
    /// </summary>
    public static void KillAll()
    {
        foreach (var child in Live.Keys)
        {
            try
            {
                if (!child.Process.HasExited) child.Process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
    }

    public void Dispose()
    {
        Live.TryRemove(this, out _);
        try
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        Process.Dispose();
    }
}
