using Orleans.MoE.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.Tests;

/// <summary>
/// The trainer's device and precision: a run asking for a GPU this libtorch cannot use fails before
/// anything is written, and training.precision bf16_autocast trains in mixed precision (checked on
/// the CPU, whose libtorch 1.13 has bf16 autocast) with float32 weights and optimizer state.
/// </summary>
public sealed class DeviceAndPrecisionTests : IDisposable
{
    private readonly TrainingSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public void ARunOnAGpuThatThisLibtorchCannotUseFailsBeforeWritingAnything()
    {
        if (TorchRuntime.CudaAvailable) return;   // a GPU machine trains there: scripts/gpu-check.sh
        var training = TrainingSandbox.Config();
        using var data = _sandbox.OpenData(training);
        var job = _sandbox.Job(TinyModels.Moe(), training, data, "gpu") with { Device = Device.Cuda() };

        var e = Assert.Throws<DeviceUnavailableException>(() => Trainer.Create(job));

        Assert.Contains("cuda:0 is not available", e.Message);
        Assert.False(Directory.Exists(job.RunDirectory), "the run directory was created before the device was checked");
    }

    [Fact]
    public void Bf16AutocastTrainsWithFloat32WeightsAndLossesNearTheFloat32Run()
    {
        var full = TrainingSandbox.Config(steps: 8);
        var mixed = full with { Precision = TrainingPrecision.Bf16Autocast };

        var (_, fullEvents) = _sandbox.Run(TinyModels.MultiHead(), full, "fp32");
        var (mixedResult, mixedEvents) = _sandbox.Run(TinyModels.MultiHead(), mixed, "bf16");

        Assert.Equal(8, mixedResult.Step);
        var (a, b) = (fullEvents.Losses, mixedEvents.Losses);
        Assert.All(b, loss => Assert.True(double.IsFinite(loss)));
        // The same weights and batches: the first losses differ only by bf16 rounding of the products.
        Assert.NotEqual(a[0], b[0]);
        Assert.InRange(Math.Abs(a[0] - b[0]), 0, 0.05);
        Assert.True(b[^1] < b[0], $"mixed-precision training did not lower the loss: {string.Join(", ", b)}");
        // Master weights and AdamW's moments stay float32 (the checkpoint holds what the trainer holds).
        var model = _sandbox.LatestTensors("bf16", "model");
        var optimizer = _sandbox.LatestTensors("bf16", "optimizer");
        try
        {
            Assert.All(model.Values, t => Assert.Equal(ScalarType.Float32, t.Dtype));
            Assert.All(optimizer.Where(kv => kv.Key.EndsWith("exp_avg", StringComparison.Ordinal)), kv => Assert.Equal(ScalarType.Float32, kv.Value.Dtype));
        }
        finally
        {
            foreach (var t in model.Values.Concat(optimizer.Values)) t.Dispose();
        }
    }

    [Fact]
    public void PrecisionIsAFieldOfTheTrainingFileAndAnUnknownValueIsNamed()
    {
        const string head = """{ "batch_size": 4, "context_length": 8, "steps": 2, "schedule": { "kind": "constant" }, "optimizer": { "lr": 1e-3 }""";
        Assert.Equal(TrainingPrecision.Float32, TrainingConfigLoader.Parse(head + "}").Precision);
        Assert.Equal(TrainingPrecision.Bf16Autocast, TrainingConfigLoader.Parse(head + """, "precision": "bf16_autocast" }""").Precision);
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse(head + """, "precision": "fp16" }"""));
        Assert.Contains("precision", e.Message);
        Assert.Contains("bf16_autocast", e.Message);
    }
}
