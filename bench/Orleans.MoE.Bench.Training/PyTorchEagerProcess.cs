using System.Diagnostics;
using System.Globalization;

namespace Orleans.MoE.Bench.Training;

/// <summary>
/// The PyTorch side, bench/python/torch_train_step.py, run by Debian's python3-torch (the libtorch the
/// binding loads) as a child process under the same thread environment, and driven line by line over its
/// stdin (the protocol is at the top of the script).
/// </summary>
internal sealed class PyTorchEagerProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    private PyTorchEagerProcess(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>
    /// Starts the script. The binding writes its OMP_WAIT_POLICY default with libc's setenv, which .NET's
    /// copy of the environment (what a child inherits) does not see: the effective value is passed on.
    /// </summary>
    public static PyTorchEagerProcess Start(string python, string script, string? ompWaitPolicy)
    {
        if (!File.Exists(script)) throw new FileNotFoundException($"{script} is missing from the checkout", script);
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        if (ompWaitPolicy is null) start.Environment.Remove("OMP_WAIT_POLICY");
        else start.Environment["OMP_WAIT_POLICY"] = ompWaitPolicy;
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {python}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException(
                $"could not start {python} ({e.Message}); install Debian's python3-torch (`make bench-deps`) or pass --python PATH", e);
        }
        var side = new PyTorchEagerProcess(process);
        side.Expect("ready", "start");
        return side;
    }

    public int SetThreads(int threads) => int.Parse(Send($"threads {threads}")[0], CultureInfo.InvariantCulture);

    /// <summary>Loads the model file written by <see cref="CsharpTrainer.SaveForPyTorch"/>; returns its parameter count.</summary>
    public long Load(string path) => long.Parse(Send($"load {path}")[0], CultureInfo.InvariantCulture);

    /// <summary>Runs n training steps; returns their wall and process CPU seconds (timed in the child) and the first and last loss.</summary>
    public (double Seconds, double CpuSeconds, double FirstLoss, double LastLoss) Steps(int n)
    {
        var r = Send($"steps {n}");
        return (Parse(r[0]), Parse(r[1]), Parse(r[2]), Parse(r[3]));
    }

    /// <summary>Runs n training steps timed by phase (<see cref="PhaseClock.Phases"/>); returns the summed wall and CPU seconds per phase.</summary>
    public (double[] Wall, double[] Cpu) Phases(int n)
    {
        var r = Send($"phases {n}").Select(Parse).ToArray();
        return (r.Where((_, i) => i % 2 == 0).ToArray(), r.Where((_, i) => i % 2 == 1).ToArray());
    }

    /// <summary>The fastest of <paramref name="reps"/> (n, n) fp32 products, in seconds.</summary>
    public double MatmulSeconds(int n, int reps) => Parse(Send($"matmul {n} {reps}")[0]);

    private static double Parse(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private string[] Send(string command)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
        return Expect("ok", command);
    }

    private string[] Expect(string keyword, string command)
    {
        var line = _process.StandardOutput.ReadLine();
        if (line is null)
        {
            _process.WaitForExit(TimeSpan.FromSeconds(5));
            var code = _process.HasExited ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "still running";
            throw new InvalidOperationException($"the PyTorch side exited (code {code}) on '{command}':\n{_stderr.Result}");
        }
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0] != keyword)
            throw new InvalidOperationException($"the PyTorch side answered '{line}' to '{command}'");
        return words[1..];
    }

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
            // The child already closed its end; nothing left to stop.
        }
        _process.Dispose();
    }
}
