using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Orleans.MoE.Data.Corpora;

/// <summary>
/// Finds and installs the Debian packages that ship the built-in corpus, through dpkg-query,
/// apt-cache and apt-get (as root). Packages are installed with
/// <c>apt-get install -y --no-install-recommends</c>; without root the error gives that exact line.
/// </summary>
public static partial class DebianPackages
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(15);

    /// <summary>One install at a time in this process; other processes are waited for through apt's own lock.</summary>
    private static readonly Lock InstallLock = new();

    private const string WaitForLock = "DPkg::Lock::Timeout=600";

    [GeneratedRegex("^[a-z0-9][a-z0-9+.-]+$")]
    private static partial Regex PackageName();

    public static string InstallCommand(IEnumerable<string> packages) =>
        $"apt-get install -y --no-install-recommends {string.Join(' ', packages)}";

    /// <summary>The licence file Debian ships with every package.</summary>
    public static string CopyrightFile(string package) => $"/usr/share/doc/{package}/copyright";

    public static bool IsInstalled(string package)
    {
        CheckName(package);
        var result = Query("dpkg-query", ["-W", "-f=${db:Status-Status}", package]);
        return result.ExitCode == 0 && result.Output.Trim() == "installed";
    }

    /// <summary>True when apt knows a version of the package it could install.</summary>
    public static bool IsKnown(string package)
    {
        CheckName(package);
        var output = Query("apt-cache", ["policy", package]).Output;
        var candidate = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("Candidate:", StringComparison.Ordinal));
        return candidate is not null && !candidate.EndsWith("(none)", StringComparison.Ordinal);
    }

    /// <summary>The files a installed package put on the system (dpkg-query -L), directories excluded.</summary>
    public static IReadOnlyList<string> Files(string package)
    {
        CheckName(package);
        var result = Query("dpkg-query", ["-L", package]);
        if (result.ExitCode != 0) throw new DebianPackageException($"Debian package '{package}' is not installed: {result.Error.Trim()}");
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(p => File.Exists(p) && !Directory.Exists(p))
            .ToList();
    }

    /// <summary>
    /// Installs whichever of the packages are missing. An unknown name is reported before anything
    /// is installed; with <paramref name="allowUpdate"/> the package lists are refreshed once
    /// (apt-get update) before a name is declared unknown.
    /// </summary>
    public static void EnsureInstalled(IReadOnlyCollection<string> packages, bool allowUpdate = true, TextWriter? log = null)
    {
        foreach (var p in packages) CheckName(p);
        lock (InstallLock) EnsureInstalledLocked(packages, allowUpdate, log);
    }

    private static void EnsureInstalledLocked(IReadOnlyCollection<string> packages, bool allowUpdate, TextWriter? log)
    {
        var missing = packages.Where(p => !IsInstalled(p)).Distinct().ToList();
        if (missing.Count == 0) return;

        var unknown = missing.Where(p => !IsKnown(p)).ToList();
        if (unknown.Count > 0 && allowUpdate && IsRoot)
        {
            log?.WriteLine("refreshing the package lists: apt-get update");
            Run("apt-get", ["-o", WaitForLock, "update"], InstallTimeout, "apt-get update");
            unknown = unknown.Where(p => !IsKnown(p)).ToList();
        }
        if (unknown.Count > 0)
            throw new DebianPackageException(
                $"unknown Debian package{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}: " +
                $"`apt-cache policy {unknown[0]}` shows no installable version. Check the name (apt-cache search), or refresh the lists with `apt-get update`.");
        if (!IsRoot)
            throw new DebianPackageException(
                $"Debian package{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)} must be installed and that needs root. Run: sudo {InstallCommand(missing)}");

        log?.WriteLine(InstallCommand(missing));
        Run("apt-get", ["-o", WaitForLock, "install", "-y", "--no-install-recommends", .. missing], InstallTimeout, InstallCommand(missing));
        var stillMissing = missing.Where(p => !IsInstalled(p)).ToList();
        if (stillMissing.Count > 0)
            throw new DebianPackageException($"apt-get finished but {string.Join(", ", stillMissing)} is still not installed; run `{InstallCommand(stillMissing)}` to see why");
    }

    public static bool IsRoot => geteuid() == 0;

    [DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();

    private static void CheckName(string package)
    {
        if (!PackageName().IsMatch(package))
            throw new DebianPackageException($"'{package}' is not a valid Debian package name (lower-case letters, digits, '+', '-', '.')");
    }

    private static ProcessRunner.Result Query(string program, IEnumerable<string> arguments)
    {
        try
        {
            return ProcessRunner.Run(program, arguments, QueryTimeout);
        }
        catch (FileNotFoundException e)
        {
            throw new DebianPackageException($"{e.Message} The built-in corpus is assembled from Debian packages and needs dpkg and apt.");
        }
    }

    private static void Run(string program, IEnumerable<string> arguments, TimeSpan timeout, string display)
    {
        var environment = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        var result = ProcessRunner.Run(program, arguments, timeout, environment);
        if (result.ExitCode != 0)
        {
            var tail = string.Join('\n', (result.Error + result.Output).Trim().Split('\n').TakeLast(8));
            throw new DebianPackageException($"`{display}` failed with exit code {result.ExitCode}:\n{tail}");
        }
    }
}
