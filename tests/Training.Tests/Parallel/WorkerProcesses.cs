using System.Diagnostics;
using System.Text;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Training.Tests.Parallel;

/// <summary>
/// Launches the ranks of a multi-process run: P processes of tests/ParallelWorker
/// (<c>dotnet Orleans.MoE.ParallelWorker.dll ...</c>, built next to the tests), meeting at a free
/// loopback port, each with one OpenMP thread.
/// </summary>
internal static class WorkerProcesses
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(180);

    public static string WorkerAssembly
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "Orleans.MoE.ParallelWorker.dll");
            if (!File.Exists(path))
                throw new FileNotFoundException($"{path} is missing: Training.Tests references tests/ParallelWorker so that its build output lands next to the tests; rebuild the test project");
            return path;
        }
    }

    /// <summary>Runs P ranks (one process without a group for <c>--mode single</c>) into a new folder and returns it.</summary>
    public static string Run(int worldSize, params string[] arguments)
    {
        var output = Directory.CreateTempSubdirectory("orleans-moe-parallel-").FullName;
        var single = arguments.Contains("single");
        var rendezvous = $"127.0.0.1:{RendezvousAddress.FreeLocalPort()}";
        var ranks = Enumerable.Range(0, single ? 1 : worldSize).Select(rank =>
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(WorkerAssembly);
            foreach (var a in arguments) info.ArgumentList.Add(a);
            if (!single)
                foreach (var a in new[] { "--world-size", $"{worldSize}", "--rank", $"{rank}", "--rendezvous", rendezvous }) info.ArgumentList.Add(a);
            info.ArgumentList.Add("--out");
            info.ArgumentList.Add(output);
            info.Environment["OMP_NUM_THREADS"] = "1";
            var log = new StringBuilder();
            var process = new Process { StartInfo = info };
            process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return (Rank: rank, Process: process, Log: log);
        }).ToArray();

        var deadline = DateTime.UtcNow + Limit;
        var failures = new List<string>();
        foreach (var (rank, process, log) in ranks)
        {
            var left = deadline - DateTime.UtcNow;
            if (!process.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                failures.Add($"rank {rank} did not finish within {Limit.TotalSeconds} s:\n{log}");
            }
            else
            {
                process.WaitForExit();   // drains the output readers
                if (process.ExitCode != 0) failures.Add($"rank {rank} exited with {process.ExitCode}:\n{log}");
            }
            process.Dispose();
        }
        if (failures.Count > 0)
            throw new InvalidOperationException($"worker {string.Join(' ', arguments)} at P = {worldSize} failed:\n{string.Join("\n", failures)}");
        return output;
    }
}
