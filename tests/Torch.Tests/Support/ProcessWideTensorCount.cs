namespace Orleans.MoE.Torch.Tests.Support;

/// <summary>
/// Tests that assert on <see cref="Tensor.LiveCount"/> or on the process's resident memory.
/// <para>
/// Both are process-wide, and xunit runs test classes in parallel: a tensor created by a test in
/// another class would move the count by an amount no test could predict. Rather than weakening the
/// assertions to "about the same", these tests share one collection with parallelization disabled,
/// which xunit runs on its own after the parallel collections have finished. Each test still settles
/// the finalizer queue first (<see cref="Settle"/>), so undisposed tensors that earlier tests left to
/// the garbage collector cannot be released in the middle of a measurement.
/// </para>
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideTensorCount
{
    public const string Name = "Process-wide tensor count";

    /// <summary>Runs collections and finalizers until the live tensor count stops changing; returns it.</summary>
    public static long Settle()
    {
        var previous = -1L;
        for (var round = 0; round < 10; round++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var now = Tensor.LiveCount;
            if (now == previous) return now;
            previous = now;
        }
        return previous;
    }

    /// <summary>
    /// Resident memory not committed by the .NET garbage collector: native allocations (libtorch's
    /// tensors among them), code and stacks. The GC grows its committed heap over the first several
    /// ten thousand small allocations (measured: +8 MiB over 60,000 create/dispose cycles), which
    /// says nothing about native leaks, so it is taken out.
    /// </summary>
    public static long NativeResidentBytes() => ResidentBytes() - GC.GetGCMemoryInfo().TotalCommittedBytes;

    /// <summary>This process's resident set size in bytes (VmRSS of /proc/self/status).</summary>
    public static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var kb = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException("/proc/self/status has no VmRSS line");
    }
}
