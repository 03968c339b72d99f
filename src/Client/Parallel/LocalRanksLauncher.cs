using System.Diagnostics;
using System.Runtime.InteropServices;
using Orleans.MoE.Torch.Distributed;

namespace Orleans.MoE.Client.Parallel;

/// <summary>
/// `--local-ranks P`: starts P copies of this command on this machine, as ranks 0..P-1 of one run with
/// a rendezvous on a free loopback port, each with its share of the cores, and forwards their output
/// line by line, prefixed with the rank. Ctrl-C is passed on to every rank (they agree on a step,
/// checkpoint and stop). Returns the first non-zero exit code, after every rank has ended.
/// </summary>
internal static class LocalRanksLauncher
{
    public static int Run(int ranks, IReadOnlyList<string> arguments, int? threadsPerRank = null)
    {
        if (ranks < 1) throw new ArgumentException($"--local-ranks must be at least 1, got {ranks}");
        var port = RendezvousAddress.FreeLocalPort();
        var threads = threadsPerRank ?? Math.Max(1, Environment.ProcessorCount / ranks);
        Console.WriteLine($"starting {ranks} ranks on this machine (rendezvous 127.0.0.1:{port}, {threads} thread(s) each)");
        var processes = new List<Process>();
        try
        {
            for (var rank = 0; rank < ranks; rank++)
            {
                var info = SelfStartInfo();
                foreach (var a in arguments) info.ArgumentList.Add(a);
                foreach (var a in new[] { "--world-size", $"{ranks}", "--rank", $"{rank}", "--rendezvous", $"127.0.0.1:{port}", "--threads", $"{threads}" })
                    info.ArgumentList.Add(a);
                info.RedirectStandardOutput = true;
                info.RedirectStandardError = true;
                info.Environment["OMP_NUM_THREADS"] = $"{threads}";
                var process = Process.Start(info) ?? throw new InvalidOperationException("could not start a rank process");
                var prefix = $"[rank {rank}] ";
                process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Out.WriteLine(prefix + e.Data); };
                process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine(prefix + e.Data); };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                processes.Add(process);
            }

            void Forward(PosixSignalContext context)
            {
                context.Cancel = true;   // the ranks decide when to stop; the launcher waits for them
                foreach (var p in processes.Where(p => !p.HasExited)) _ = Kill(p.Id, context.Signal == PosixSignal.SIGTERM ? 15 : 2);
            }
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Forward);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Forward);

            foreach (var p in processes) p.WaitForExit();
            var failed = processes.Select((p, rank) => (p.ExitCode, rank)).Where(x => x.ExitCode != 0).ToList();
            foreach (var (code, rank) in failed) Console.Error.WriteLine($"rank {rank} exited with code {code}{(code >= 128 ? $" (signal {code - 128})" : "")}");
            return failed.Count == 0 ? 0 : failed[0].ExitCode;
        }
        finally
        {
            foreach (var p in processes)
            {
                if (!p.HasExited) p.Kill();
                p.Dispose();
            }
        }
    }

    /// <summary>How this very program was started: its apphost, or `dotnet moe.dll`.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell how this program was started");
        var info = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") info.ArgumentList.Add(typeof(LocalRanksLauncher).Assembly.Location);
        return info;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
