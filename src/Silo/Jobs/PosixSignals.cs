using System.Runtime.InteropServices;

namespace Orleans.MoE.Silo.Jobs;

/// <summary>
/// Signals to child processes (.NET can only kill): SIGTERM lets a worker checkpoint before it exits.
/// Not SIGINT: a silo started in the background by a non-interactive shell (a script's `moe silo &`)
/// inherits SIGINT ignored, and its workers with it, so they would never hear the request.
/// </summary>
internal static partial class PosixSignals
{
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends the signal; false when the process is already gone.</summary>
    public static bool Send(int pid, int signal) => Kill(pid, signal) == 0;
}
