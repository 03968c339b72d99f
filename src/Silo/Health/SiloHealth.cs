using Orleans.Runtime;

namespace Orleans.MoE.Silo.Health;

/// <summary>
/// What the health endpoint answers, from the silo's status in the cluster's membership and whether the
/// host is stopping. Kept apart from the listener so that every answer can be checked without a socket.
/// </summary>
/// <param name="membershipStatus">this silo's status in the membership table now</param>
/// <param name="stopping">cancelled once the host begins to stop (SIGTERM)</param>
public sealed class SiloHealth(Func<SiloStatus> membershipStatus, CancellationToken stopping)
{
    public const string StartupPath = "/healthz/startup";
    public const string LivePath = "/healthz/live";
    public const string ReadyPath = "/healthz/ready";

    /// <summary>The HTTP status and a one-line body for a request path.</summary>
    public (int Status, string Body) Answer(string path)
    {
        switch (path)
        {
            case StartupPath:
                // Joined: the silo is Active in membership (or was, and is now shutting down: startup is over either way).
                var status = membershipStatus();
                return status is SiloStatus.Active or SiloStatus.ShuttingDown or SiloStatus.Stopping
                    ? (200, $"started ({status})") : (503, $"not joined yet ({status})");
            case LivePath:
                // Local progress only: answering at all proves the process and its thread pool run. Redis or
                // other silos being unreachable must not restart a silo whose workers still train.
                return (200, "alive");
            case ReadyPath:
                var now = membershipStatus();
                if (stopping.IsCancellationRequested) return (503, "stopping: workers checkpoint and stop");
                return now == SiloStatus.Active ? (200, "accepting jobs") : (503, $"not accepting jobs ({now})");
            default:
                return (404, $"no such probe; use {StartupPath}, {LivePath} or {ReadyPath}");
        }
    }
}
