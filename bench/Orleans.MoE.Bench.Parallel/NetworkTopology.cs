using System.Diagnostics;
using System.Globalization;

namespace Orleans.MoE.Bench.Parallel;

/// <summary>
/// P network namespaces, one per rank, each with one veth link to a bridge in a further "switch"
/// namespace: a star of P hosts on one switch, entirely inside this machine. Every link is limited with
/// a tc token bucket filter on both of its ends (the rank's upload and download). Addresses are private
/// (10.213.0.0/24) and live only inside these namespaces; this namespace gets no address, route or
/// firewall rule, and the bridge sits in its own namespace, so the host's bridge netfilter settings do
/// not apply.
/// <para>
/// Names carry this process's id ("moebench-{pid}-sw", "moebench-{pid}-r{rank}"): <see cref="RemoveStale"/>
/// removes those of benchmark processes that no longer run (a run killed with SIGKILL); <see cref="Dispose"/>
/// removes this run's. Deleting a namespace deletes its veth ends, and with them their peers.
/// </para>
/// </summary>
internal sealed class NetworkTopology : IDisposable
{
    private const string Prefix = "moebench-";
    private readonly List<string> _namespaces = [];
    private bool _disposed;

    private NetworkTopology(int worldSize) => WorldSize = worldSize;

    public int WorldSize { get; }

    public static string SwitchNamespace => $"{Prefix}{Environment.ProcessId}-sw";

    public static string RankNamespace(int rank) => $"{Prefix}{Environment.ProcessId}-r{rank}";

    public static string RankAddress(int rank) => $"10.213.0.{rank + 1}";

    /// <summary>Why namespaces cannot be used here (not root, no `ip`/`tc`, `ip netns add` fails), or null when they can.</summary>
    public static string? Unavailable()
    {
        if (Geteuid() != 0)
            return $"network namespaces need root (ip netns add); running as {Environment.UserName} (uid {Geteuid()})";
        foreach (var tool in new[] { "ip", "tc" })
        {
            if (!Run(tool, ["-V"], check: false).Ok) return $"`{tool}` (iproute2) was not found on PATH";
        }
        var probe = $"{Prefix}{Environment.ProcessId}-probe";
        var add = Run("ip", ["netns", "add", probe], check: false);
        if (!add.Ok) return $"`ip netns add` failed: {add.Error.Trim()}";
        Run("ip", ["netns", "del", probe], check: false);
        return null;
    }

    /// <summary>Builds the star; on any failure removes what it built and throws with the failing command.</summary>
    public static NetworkTopology Create(int worldSize, int megabits)
    {
        var topology = new NetworkTopology(worldSize);
        try
        {
            topology.AddNamespace(SwitchNamespace);
            Ip(SwitchNamespace, "link", "add", "br0", "type", "bridge");
            Ip(SwitchNamespace, "link", "set", "br0", "up");
            for (var r = 0; r < worldSize; r++)
            {
                var ns = RankNamespace(r);
                topology.AddNamespace(ns);
                var port = $"p{r}";
                Ip(SwitchNamespace, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
                Ip(SwitchNamespace, "link", "set", port, "master", "br0");
                Ip(SwitchNamespace, "link", "set", port, "up");
                Ip(ns, "link", "set", "lo", "up");
                Ip(ns, "addr", "add", RankAddress(r) + "/24", "dev", "eth0");
                Ip(ns, "link", "set", "eth0", "up");
                if (megabits > 0)
                {
                    Limit(ns, "eth0", megabits);              // the rank's upload
                    Limit(SwitchNamespace, port, megabits);   // its download
                }
            }
            return topology;
        }
        catch
        {
            topology.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Token bucket at the rate; the bucket holds 2 ms of traffic (at least 32 KiB) and the queue up to
    /// 100 ms, so TCP meets the limit as on a switched link rather than as random loss.
    /// </summary>
    private static void Limit(string ns, string device, int megabits)
    {
        var burstBytes = Math.Max(32 * 1024, megabits * 1_000_000L / 8 / 500);
        Run("ip", ["netns", "exec", ns, "tc", "qdisc", "add", "dev", device, "root", "tbf",
            "rate", megabits.ToString(CultureInfo.InvariantCulture) + "mbit",
            "burst", burstBytes.ToString(CultureInfo.InvariantCulture), "latency", "100ms"]);
    }

    /// <summary>The command line that runs <paramref name="command"/> inside rank <paramref name="rank"/>'s namespace.</summary>
    public static string[] InRankNamespace(int rank, string[] command) => ["ip", "netns", "exec", RankNamespace(rank), .. command];

    /// <summary>Removes the namespaces of benchmark runs whose process is gone; returns their names.</summary>
    public static IReadOnlyList<string> RemoveStale()
    {
        var listed = Run("ip", ["netns", "list"], check: false);
        if (!listed.Ok) return [];
        var removed = new List<string>();
        foreach (var line in listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            var pidText = name[Prefix.Length..].Split('-')[0];
            if (!int.TryParse(pidText, CultureInfo.InvariantCulture, out var pid) || Directory.Exists($"/proc/{pid}")) continue;
            if (Run("ip", ["netns", "del", name], check: false).Ok) removed.Add(name);
        }
        return removed;
    }

    private void AddNamespace(string name)
    {
        Run("ip", ["netns", "add", name]);
        _namespaces.Add(name);
    }

    private static void Ip(string ns, params string[] args) => Run("ip", ["-n", ns, .. args]);

    /// <summary>Deletes every namespace this topology created (rank processes must have exited first). Safe to call twice.</summary>
    public void Dispose()
    {
        lock (_namespaces)
        {
            if (_disposed) return;
            _disposed = true;
            for (var i = _namespaces.Count - 1; i >= 0; i--)
            {
                var result = Run("ip", ["netns", "del", _namespaces[i]], check: false);
                if (!result.Ok) Console.Error.WriteLine($"could not remove network namespace {_namespaces[i]}: {result.Error.Trim()} (remove it with `ip netns del {_namespaces[i]}`)");
            }
        }
    }

    private static (bool Ok, string Output, string Error) Run(string file, string[] args, bool check = true)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            var ok = process.ExitCode == 0;
            if (!ok && check)
                throw new InvalidOperationException($"`{file} {string.Join(' ', args)}` failed ({process.ExitCode}): {error.Result.Trim()}");
            return (ok, output, error.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            if (check) throw new InvalidOperationException($"`{file}` could not be started: {e.Message}", e);
            return (false, "", e.Message);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint Geteuid();
}
