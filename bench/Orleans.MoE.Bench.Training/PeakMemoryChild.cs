using System.Diagnostics;
using System.Globalization;
using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Bench.Training;

/// <summary>
/// The peak memory of training steps with one kind of kernel, in a process of its own: libtorch's CPU
/// allocator keeps no statistics, so the figure is the kernel's high-water mark of resident memory
/// (VmHWM, reset just before the first step) after the steps minus the resident size (VmRSS) before the
/// first one, when the model and the batch exist. The first step also allocates AdamW's two moments, the same for both kernels.
/// </summary>
internal static class PeakMemoryChild
{
    public const int Steps = 3;

    public const string Command = "peak-memory-child";

    /// <summary>Runs the child (this program with <see cref="Command"/>) and returns its peak growth in bytes.</summary>
    public static long Measure(string selfCommand, string model, RoutedKernels kernels, TrainingBenchOptions o)
    {
        var start = new ProcessStartInfo(selfCommand) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(selfCommand) == "dotnet") start.ArgumentList.Add(typeof(PeakMemoryChild).Assembly.Location);
        foreach (var a in new[] { Command, model, kernels.ToString(), o.Batch.ToString(CultureInfo.InvariantCulture),
                     o.SequenceLength.ToString(CultureInfo.InvariantCulture), o.Threads.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {selfCommand}");
        var output = child.StandardOutput.ReadToEnd();
        if (!child.WaitForExit(TimeSpan.FromMinutes(5)) || child.ExitCode != 0)
            throw new InvalidOperationException($"the peak-memory child for {model} ({kernels}) failed: {output}");
        return long.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>The child's body: args are model name, kernels, batch, sequence length, threads. Prints the growth in bytes.</summary>
    public static int Run(string[] args)
    {
        var kernels = Enum.Parse<RoutedKernels>(args[1], ignoreCase: true);
        Orleans.MoE.Torch.TorchRuntime.Threads = int.Parse(args[4], CultureInfo.InvariantCulture);
        using var trainer = new CsharpTrainer(RoutedLayerBenchmark.ModelOf(args[0], kernels),
            int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
        File.WriteAllText("/proc/self/clear_refs", "5");   // resets VmHWM to the current VmRSS (Linux 4.0+)
        var before = Status("VmRSS");
        for (var i = 0; i < Steps; i++) trainer.Step();
        Console.WriteLine((Status("VmHWM") - before).ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    /// <summary>A size from /proc/self/status, in bytes.</summary>
    private static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"/proc/self/status has no {field}");
    }
}
