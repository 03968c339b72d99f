using System.Runtime.InteropServices;

namespace Orleans.MoE.Silo.Jobs;

/// <summary>Signals to child processes (.NET can only kill): SIGINT lets a worker checkpoint before it exits.</summary>
internal static partial class PosixSignals
{
    public const int SigInt = 2;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends the signal; false when the process is already gone.</summary>
    public static bool Send(int pid, int signal) => Kill(pid, signal) == 0;
}
