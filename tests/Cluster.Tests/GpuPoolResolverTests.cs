using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Silo.Hosting;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// A silo's cuda pools take their GPU count and memory from the loaded libtorch (devices: auto), and
/// a cuda pool that the machine cannot serve stops the silo at startup with the reason, so GPU and
/// CPU silos can serve one experiment without a GPU job ever landing on a CPU-only silo.
/// </summary>
public class GpuPoolResolverTests
{
    private static readonly GpuInventory TwoH200 = new(true, "libtorch 2.11.0, CUDA, 2 GPUs", [150_100_000_000L, 150_100_000_000L]);

    private static Dictionary<string, string> CudaPool(string devices = "auto", string? memory = null)
    {
        var metadata = new Dictionary<string, string> { ["pool0_class"] = "gpu", ["pool0_kind"] = "cuda", ["pool0_devices"] = devices };
        if (memory is not null) metadata["pool0_memory_gib"] = memory;
        return metadata;
    }

    [Fact]
    public void AutoDevicesAndMemoryOfACudaPoolComeFromTheGpus()
    {
        var resolved = GpuPoolResolver.Resolve(CudaPool(memory: "auto"), () => TwoH200);
        var pool = Assert.Single(DevicePoolMetadata.Parse(resolved));
        Assert.Equal("cuda", pool.Kind);
        Assert.Equal(2, pool.Devices);
        Assert.Equal(139.8, pool.MemoryGib);   // 150.1e9 bytes / 2^30, one decimal
    }

    [Fact]
    public void DeclaredValuesThatFitAreKept()
    {
        var resolved = GpuPoolResolver.Resolve(CudaPool(devices: "1", memory: "80"), () => TwoH200);
        var pool = Assert.Single(DevicePoolMetadata.Parse(resolved));
        Assert.Equal(1, pool.Devices);
        Assert.Equal(80, pool.MemoryGib);
    }

    [Fact]
    public void MoreGpusThanTheMachineHasIsRefusedNamingTheKeyAndTheCount()
    {
        var e = Assert.Throws<SiloMetadataException>(() => GpuPoolResolver.Resolve(CudaPool(devices: "4"), () => TwoH200));
        var problem = Assert.Single(e.Problems);
        Assert.StartsWith("pool0_devices: 4 GPUs declared, but libtorch sees 2", problem);
        Assert.Contains("'auto'", problem);
    }

    [Fact]
    public void ACudaPoolOnAMachineWithoutAGpuStopsTheSiloWithTheReason()
    {
        var cpuBuild = new GpuInventory(false, "libtorch 1.13.0, CPU only", []);
        var noGpu = new GpuInventory(true, "libtorch 2.11.0, CUDA, 0 GPUs", []);

        var built = Assert.Throws<SiloMetadataException>(() => GpuPoolResolver.Resolve(CudaPool(), () => cpuBuild));
        Assert.Contains("pool0_kind: cuda, but this silo has no GPU to serve it", built.Message);
        Assert.Contains("built against libtorch 1.13.0, CPU only", built.Message);
        Assert.Contains("declare the pool with kind cpu", built.Message);

        var driver = Assert.Throws<SiloMetadataException>(() => GpuPoolResolver.Resolve(CudaPool(), () => noGpu));
        Assert.Contains("has CUDA but sees no GPU", driver.Message);
    }

    [Fact]
    public void ThisMachinesOwnLibtorchIsAskedAndACpuBuildRefusesACudaPool()
    {
        var inventory = GpuInventory.Query();
        if (inventory.Count > 0) return;   // a GPU machine serves the pool: scripts/gpu-check.sh
        Assert.Throws<SiloMetadataException>(() => GpuPoolResolver.Resolve(CudaPool(), GpuInventory.Query));
    }

    [Fact]
    public void CpuPoolsNeverAskLibtorchAndAutoIsOnlyForCudaPools()
    {
        var asked = 0;
        GpuInventory Query() { asked++; return TwoH200; }
        var cpu = new Dictionary<string, string> { ["pool0_class"] = "low-cost", ["pool0_kind"] = "cpu", ["pool0_devices"] = "2", ["cores"] = "8" };

        Assert.Equal(cpu, GpuPoolResolver.Resolve(cpu, Query));
        Assert.Equal(0, asked);

        var auto = new Dictionary<string, string>(cpu) { ["pool0_devices"] = "auto" };
        var e = Assert.Throws<SiloMetadataException>(() => GpuPoolResolver.Resolve(auto, Query));
        Assert.Contains("pool0_devices: 'auto' is only resolved for the devices and memory_gib of a pool of kind cuda", e.Message);
        Assert.Equal(0, asked);
    }

    [Fact]
    public void ACpuSiloAndAGpuSiloServeOneExperimentsClassesSideBySide()
    {
        // The ledger's view of two silos after their metadata was resolved: the GPU job goes to the GPU silo only.
        var gpuSilo = DevicePoolMetadata.Parse(GpuPoolResolver.Resolve(
            new Dictionary<string, string> { ["pool0_class"] = "high-memory", ["pool0_kind"] = "cuda", ["pool0_devices"] = "auto" }, () => TwoH200));
        var cpuSilo = DevicePoolMetadata.Parse(new Dictionary<string, string> { ["pool0_class"] = "low-cost", ["pool0_devices"] = "4" });
        var silos = new[]
        {
            new SiloCapacity("S1", "cpu-silo", "127.0.0.1", cpuSilo, [0], 8),
            new SiloCapacity("S2", "gpu-silo", "127.0.0.1", gpuSilo, [0], 16),
        };

        var fineTune = SlotChoice.Choose(new SlotRequest { JobKey = "e/fine_tune", Attempt = 1, DeviceClass = "high-memory" }, silos);
        var submodel = SlotChoice.Choose(new SlotRequest { JobKey = "e/submodel-0", Attempt = 1, DeviceClass = "low-cost" }, silos);

        var gpuSlot = Assert.Single(fineTune.Slots);
        Assert.Equal("gpu-silo", gpuSlot.SiloName);
        Assert.Equal("cuda", gpuSlot.Pool.Kind);
        Assert.Equal(2, gpuSlot.Pool.Devices);
        Assert.Equal("cpu-silo", Assert.Single(submodel.Slots).SiloName);
    }
}
