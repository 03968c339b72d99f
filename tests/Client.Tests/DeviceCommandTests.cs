using Orleans.MoE.Torch;

namespace Orleans.MoE.Client.Tests;

/// <summary>
/// The device option of the command line on this (CPU) machine: `moe selftest --device cpu`, the
/// dry run of the GPU check's binding checks, passes every check; asking for a GPU this libtorch
/// cannot use is refused as bad input (exit 2) with the reason, before anything is read or written.
/// </summary>
public class DeviceCommandTests
{
    private static string Experiments()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "experiments");
            if (File.Exists(Path.Combine(candidate, "tiny-moe.model.json"))) return candidate;
        }
        throw new DirectoryNotFoundException("experiments/ of the checkout was not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void SelftestOnTheCpuPassesEveryCheck()
    {
        using var moe = new MoeProcess("selftest", "--device", "cpu", "--models", Experiments());
        Assert.True(moe.WaitForExit(TimeSpan.FromMinutes(3)), "moe selftest did not finish: " + moe.Output + moe.Error);
        Assert.Equal(0, moe.Process.ExitCode);
        Assert.Contains("9 passed, 0 failed", moe.Output);
        Assert.DoesNotContain("FAIL", moe.Output);
    }

    [Fact]
    public void TrainingOnAGpuThatThisLibtorchCannotUseIsRefusedWithTheReason()
    {
        if (TorchRuntime.CudaAvailable) return;   // a GPU machine trains there: scripts/gpu-check.sh
        var runDirectory = Path.Combine(Path.GetTempPath(), $"moe-device-{Guid.NewGuid():N}");
        using var moe = new MoeProcess("train", "--device", "cuda:0", "--model", Path.Combine(Experiments(), "tiny-moe.model.json"),
            "--training", Path.Combine(Experiments(), "tiny.training.json"), "--data", "no-such-corpus", "--run-dir", runDirectory);
        Assert.True(moe.WaitForExit(TimeSpan.FromMinutes(1)), "moe train did not finish: " + moe.Output + moe.Error);
        Assert.Equal(2, moe.Process.ExitCode);
        Assert.Contains("error: device cuda:0 is not available", moe.Error);
        Assert.Contains("--device cpu", moe.Error);
        Assert.False(Directory.Exists(runDirectory));

        using var parse = new MoeProcess("train", "--device", "gpu0", "--run-dir", runDirectory, "--data", "x");
        Assert.True(parse.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(2, parse.Process.ExitCode);
        Assert.Contains("'gpu0' is not a device: use cpu, cuda or cuda:N", parse.Error);
    }
}
