using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Torch.Native;
using Orleans.MoE.Torch.NN;
using Orleans.MoE.Torch.Optim;

namespace Orleans.MoE.Torch.Tests;

/// <summary>
/// Devices through the binding on a machine without a GPU: asking for CUDA fails at once with the
/// reason (the library's libtorch has no CUDA) and what to do, the GPU queries say the same, and
/// NCCL is refused by name. The GPU side itself is checked by `moe selftest --device cuda`
/// (scripts/gpu-check.sh) on a GPU machine.
/// </summary>
public class DeviceTests
{
    [Fact]
    public void AskingForAGpuThatThisLibtorchCannotUseNamesTheCauseAndTheFix()
    {
        var e = Assert.Throws<DeviceUnavailableException>(() => Device.Parse("cuda:99").EnsureAvailable());
        Assert.Equal(Device.Cuda(99), e.Device);
        Assert.Contains("cuda:99 is not available", e.Message);
        if (!TorchRuntime.CudaBuilt)
        {
            // The CPU build of this project's machines and CI.
            Assert.Contains($"built against libtorch {TorchRuntime.Version} without CUDA", e.Message);
            Assert.Contains("--device cpu", e.Message);
            Assert.Contains("README: Building against another libtorch (CUDA)", e.Message);
        }
        else
        {
            Assert.Contains(TorchRuntime.CudaDeviceCount == 0 ? "sees no GPU" : $"libtorch sees {TorchRuntime.CudaDeviceCount} GPU", e.Message);
        }
        Assert.Equal(Device.Cpu, Device.Cpu.EnsureAvailable());
    }

    [Fact]
    public void TheGpuQueriesOfACpuBuildReportNoneAndRefuseMemoryByName()
    {
        if (TorchRuntime.CudaBuilt) return;   // a CUDA build answers from its GPUs: see moe selftest
        Assert.False(TorchRuntime.CudaAvailable);
        Assert.Equal(0, TorchRuntime.CudaDeviceCount);
        Assert.Equal($"libtorch {TorchRuntime.Version}, CPU only", TorchRuntime.Describe());
        var e = Assert.Throws<TorchException>(() => TorchRuntime.CudaMemory(0));
        Assert.Equal(2, e.Status);   // a refused argument, not a libtorch crash
        Assert.Contains("CUDA is not available", e.Message);
        Assert.Contains("without CUDA", e.Message);
        TorchRuntime.Synchronize(Device.Cpu);   // nothing to wait for
    }

    [Fact]
    public void NcclIsRefusedByNameWhereTheLibraryHasNone()
    {
        if (ProcessGroup.NcclAvailable) return;   // a CUDA build with NCCL: moe selftest --device cuda creates one
        var address = new RendezvousAddress("127.0.0.1", RendezvousAddress.FreeLocalPort());
        var native = Assert.Throws<TorchException>(() => ProcessGroup.Join(address, 0, 1, TimeSpan.FromSeconds(10), CollectiveBackend.Nccl));
        Assert.Contains("NCCL is not available", native.Message);
        Assert.Contains("use the gloo backend", native.Message);
        // Chosen by device: a GPU rank fails before any rendezvous, naming what is missing.
        Assert.Throws<DeviceUnavailableException>(() => ProcessGroup.BackendFor(Device.Cuda()));
        Assert.Equal(CollectiveBackend.Gloo, ProcessGroup.BackendFor(Device.Cpu));
    }

    [Fact]
    public void AProcessGroupJoinedForTheCpuIsGlooAndHoldsItsTensorsThere()
    {
        var address = new RendezvousAddress("127.0.0.1", RendezvousAddress.FreeLocalPort());
        using var group = ProcessGroup.Join(address, 0, 1, TimeSpan.FromSeconds(10), Device.Cpu);
        using var scope = DisposeScope.Begin();
        Assert.Equal(CollectiveBackend.Gloo, group.Backend);
        Assert.Equal(Device.Cpu, group.Device);
        var values = Tensor.FromArray(new[] { 1f, 2f, 3f }, 3);
        group.AllReduce(values);
        Assert.Equal([1f, 2f, 3f], values.ToArray<float>());
    }

    private sealed class TwoLayers : Module
    {
        public TwoLayers()
        {
            using var generator = new Generator(3);
            First = RegisterModule("first", new Linear(4, 3, generator: generator));
            Scale = RegisterBuffer("scale", Tensor.Full([3], 0.5));
            Steps = RegisterBuffer("steps", Tensor.Zeros([1], ScalarType.Int64));
        }

        public Linear First { get; }

        public Tensor Scale { get; }

        public Tensor Steps { get; }
    }

    [Fact]
    public void ModuleToConvertsParametersInPlaceSoThatAnOptimizerBuiltBeforeKeepsTraining()
    {
        using var scope = DisposeScope.Begin();
        using var module = new TwoLayers();
        var parameters = module.Parameters().ToList();
        var before = parameters.Select(p => p.ToArray<float>()).ToList();
        using var optimizer = new AdamW([new ParameterGroup(parameters, 0.1)]);
        var input = Tensor.Ones([2, 4]);
        (module.First.Forward(input) * module.Scale).Sum().Backward();
        Assert.NotNull(parameters[0].Grad);

        Assert.Same(module, module.To(ScalarType.Float64));

        Assert.Equal(parameters, module.Parameters());   // the same objects: the optimizer holds them
        Assert.All(parameters, p => Assert.Equal(ScalarType.Float64, p.Dtype));
        Assert.All(parameters, p => Assert.Null(p.Grad));   // a gradient of the old dtype would not fit
        Assert.All(parameters, p => Assert.True(p.RequiresGrad));
        for (var i = 0; i < parameters.Count; i++)
            Assert.Equal(before[i].Select(v => (double)v), parameters[i].ToArray<double>());
        Assert.Equal(ScalarType.Float64, module.Scale.Dtype);
        Assert.Equal(ScalarType.Int64, module.Steps.Dtype);   // integral buffers keep their dtype

        var doubles = input.To(ScalarType.Float64);
        (module.First.Forward(doubles) * module.Scale).Sum().Backward();
        optimizer.Step();
        Assert.NotEqual(before[0].Select(v => (double)v), parameters[0].ToArray<double>());   // the step moved the converted weights
        Assert.Same(module, module.To(Device.Cpu));   // already there: nothing moves
        Assert.Equal(ScalarType.Float64, parameters[0].Dtype);
    }
}
