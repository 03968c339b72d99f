using System.Diagnostics;
using System.Globalization;
using Orleans.MoE.Model;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Torch.NN;
using Orleans.MoE.Torch.Optim;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Client.Diagnostics;

/// <summary>One check of <see cref="DeviceSelfTest"/>: its name, whether it passed, and what it measured or why it failed.</summary>
internal sealed record SelfTestResult(string Name, bool Passed, string Detail);

/// <summary>
/// The binding's checks on one device, runnable from a published build without the test projects
/// (`moe selftest --device cuda`): operations, gradients, the models, AdamW and checkpoints on the
/// device against the same computation on the CPU (whose results the test suite checks against
/// PyTorch's fixtures), gradients on the device against central finite differences in float64, a
/// process group of one rank with the device's backend (NCCL on a GPU), and bf16 autocast.
/// On the CPU every comparison is of the CPU with itself: a dry run of the checks.
/// </summary>
internal sealed class DeviceSelfTest(Device device, string modelDirectory)
{
    /// <summary>float32 results on two devices differ by the order of their sums: relative tolerance of a comparison.</summary>
    public const double Float32Tolerance = 1e-4;

    /// <summary>A model's loss under bf16 autocast is within this of its float32 loss (bf16 has 8 mantissa bits).</summary>
    public const double AutocastLossTolerance = 0.05;

    public IEnumerable<SelfTestResult> Run()
    {
        yield return Check("operations match the CPU (linear, silu, softmax, cross-entropy, forward and backward)", OperationsMatchCpu);
        yield return Check("gradients match finite differences on the device (float64)", FiniteDifferences);
        foreach (var file in new[] { "tiny-moe.model.json", "tiny-mh-latentmoe.model.json" })
            yield return Check($"{file}: loss and gradients on the device match the CPU from the same seed", () => ModelMatchesCpu(file));
        yield return Check("AdamW steps on the device match the CPU", AdamWMatchesCpu);
        yield return Check("Module.To moves parameters in place and training continues", ModuleMovesInPlace);
        yield return Check("checkpoint written from the device loads back onto it bit for bit", CheckpointRoundTrip);
        yield return Check($"process group of one rank ({ProcessGroupBackendName()}): all_reduce and all_to_all", ProcessGroupOfOne);
        yield return Check("bf16 autocast: bfloat16 matrix products, loss near float32", AutocastBf16);
    }

    private string ProcessGroupBackendName() => device.Type == DeviceType.Cpu ? "gloo" : "nccl";

    private static SelfTestResult Check(string name, Func<string> body)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var scope = DisposeScope.Begin();
            var detail = body();
            return new SelfTestResult(name, true, $"{detail}; {clock.Elapsed.TotalSeconds:F2} s");
        }
        catch (Exception e)
        {
            return new SelfTestResult(name, false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }

    /// <summary>max |a - b| / (1 + max |b|) over two tensors of any device: their difference relative to b's scale.</summary>
    private static double RelativeDifference(Tensor a, Tensor b)
    {
        var x = a.To(ScalarType.Float64, Device.Cpu).ToArray<double>();
        var y = b.To(ScalarType.Float64, Device.Cpu).ToArray<double>();
        Require(x.Length == y.Length, $"{x.Length} elements against {y.Length}");
        var scale = y.Select(Math.Abs).DefaultIfEmpty(0).Max();
        return x.Zip(y, (p, q) => Math.Abs(p - q)).DefaultIfEmpty(0).Max() / (1 + scale);
    }

    private static string Show(double value) => value.ToString("E2", CultureInfo.InvariantCulture);

    private string OperationsMatchCpu()
    {
        using var generator = new Generator(7);
        var x = Tensor.Randn([8, 16], generator);          // (B, d_in)
        var w = Tensor.Randn([32, 16], generator) * 0.2;   // (d_out, d_in)
        var b = Tensor.Randn([32], generator) * 0.1;       // (d_out)
        var targets = Tensor.FromArray(Enumerable.Range(0, 8).Select(i => (long)(i * 3 % 32)).ToArray(), 8);
        (Tensor Loss, Tensor Probabilities, Tensor GradW, Tensor GradX) On(Device d)
        {
            var (xd, wd, bd) = (x.To(d).RequiresGrad_(), w.To(d).RequiresGrad_(), b.To(d));
            var hidden = Functional.Linear(xd, wd, bd).Silu();                 // (B, d_out)
            var loss = Functional.CrossEntropy(hidden, targets.To(d));       // ()
            loss.Backward();
            return (loss, hidden.Softmax(-1), wd.Grad!, xd.Grad!);
        }
        var cpu = On(Device.Cpu);
        var here = On(device);
        Require(here.Loss.Device == device, $"the loss was computed on {here.Loss.Device}, not {device}");
        var worst = new[]
        {
            RelativeDifference(here.Loss, cpu.Loss), RelativeDifference(here.Probabilities, cpu.Probabilities),
            RelativeDifference(here.GradW, cpu.GradW), RelativeDifference(here.GradX, cpu.GradX),
        }.Max();
        Require(worst <= Float32Tolerance, $"largest relative difference from the CPU {Show(worst)} > {Show(Float32Tolerance)}");
        return $"largest relative difference from the CPU {Show(worst)}";
    }

    private string FiniteDifferences()
    {
        using var generator = new Generator(11);
        var x = Tensor.Randn([3, 4], generator, ScalarType.Float64).To(device);   // (B, d_in)
        var w = Tensor.Randn([5, 4], generator, ScalarType.Float64).To(device);   // (d_out, d_in)
        var u = Tensor.Randn([3, 5], generator, ScalarType.Float64).To(device);   // upstream weights of the outputs
        Tensor Loss(Tensor xs, Tensor ws) => (Functional.Linear(xs, ws).Silu().Softmax(-1) * u).Sum();   // scalar
        var (xLeaf, wLeaf) = (x.Clone().RequiresGrad_(), w.Clone().RequiresGrad_());
        Loss(xLeaf, wLeaf).Backward();
        var analytic = new[] { xLeaf.Grad!.To(Device.Cpu).ToArray<double>(), wLeaf.Grad!.To(Device.Cpu).ToArray<double>() };
        const double epsilon = 1e-6, tolerance = 1e-6;
        var inputs = new[] { x.To(Device.Cpu).ToArray<double>(), w.To(Device.Cpu).ToArray<double>() };
        var shapes = new[] { x.Shape, w.Shape };
        double worst = 0;
        var checkedElements = 0;
        using (GradMode.NoGrad())
        {
            for (var which = 0; which < 2; which++)
                for (var j = 0; j < inputs[which].Length; j++)
                {
                    double At(double delta)
                    {
                        using var scope = DisposeScope.Begin();
                        var values = (double[])inputs[which].Clone();
                        values[j] += delta;
                        var moved = Tensor.FromArray<double>(values, shapes[which], device);
                        return (which == 0 ? Loss(moved, w) : Loss(x, moved)).Item();
                    }
                    var numeric = (At(epsilon) - At(-epsilon)) / (2 * epsilon);
                    var error = Math.Abs(analytic[which][j] - numeric) / (1 + Math.Abs(numeric));
                    worst = Math.Max(worst, error);
                    checkedElements++;
                }
        }
        Require(analytic.All(g => g.Any(v => v != 0)), "a gradient is all zeros: the check could not fail");
        Require(worst <= tolerance, $"largest |analytic - numeric| / (1 + |numeric|) = {Show(worst)} > {Show(tolerance)}");
        return $"{checkedElements} elements, largest error {Show(worst)}";
    }

    private (Tensor Tokens, Tensor Targets) Batch(ModelConfig config, int rows, int length)
    {
        using var generator = new Generator(3);
        var tokens = Tensor.RandInt(0, config.VocabSize, [rows, length + 1], generator);   // (B, T + 1)
        return (tokens.Narrow(1, 0, length).Contiguous(), tokens.Narrow(1, 1, length).Contiguous());
    }

    private ModelConfig LoadModel(string file) => ModelConfigLoader.LoadFile(Path.Combine(modelDirectory, file));

    private string ModelMatchesCpu(string file)
    {
        var config = LoadModel(file);
        var (tokens, targets) = Batch(config, 4, Math.Min(32, config.MaxSeqLen));
        (Tensor Loss, double GradNorm) On(Device d)
        {
            using var model = new Transformer(config, device: d);
            using var output = model.Forward(tokens, targets);
            output.Loss!.Backward();
            var norm = Math.Sqrt(model.Parameters().Where(p => p.Grad is not null).Sum(p => p.Grad!.Square().Sum().Item()));
            return (output.Loss!.Detach().To(Device.Cpu), norm);
        }
        var cpu = On(Device.Cpu);
        var here = On(device);
        var loss = RelativeDifference(here.Loss, cpu.Loss);
        var norm = Math.Abs(here.GradNorm - cpu.GradNorm) / cpu.GradNorm;
        Require(loss <= Float32Tolerance, $"loss {here.Loss.Item():R} on {device}, {cpu.Loss.Item():R} on the CPU");
        Require(norm <= 1e-3, $"gradient norm {here.GradNorm:R} on {device}, {cpu.GradNorm:R} on the CPU");
        return $"loss {here.Loss.Item():F6} (CPU {cpu.Loss.Item():F6}), gradient norm relative difference {Show(norm)}";
    }

    private string AdamWMatchesCpu()
    {
        using var generator = new Generator(5);
        var start = Tensor.Randn([6, 4], generator);
        var input = Tensor.Randn([3, 4], generator);
        Tensor On(Device d)
        {
            using var weight = new Parameter(start.To(d).Clone());   // its own copy: the CPU run must not move start
            using var optimizer = new AdamW([new ParameterGroup([weight], 1e-2, 0.1, 0.9, 0.95, 1e-8)]);
            for (var step = 0; step < 3; step++)
            {
                using var scope = DisposeScope.Begin();
                optimizer.ZeroGrad();
                Functional.Linear(input.To(d), weight).Square().Mean().Backward();
                optimizer.Step();
            }
            return weight.Detach().To(Device.Cpu).Clone();
        }
        var difference = RelativeDifference(On(device), On(Device.Cpu));
        Require(difference <= Float32Tolerance, $"weights after 3 steps differ from the CPU's by {Show(difference)}");
        return $"3 steps, largest relative difference {Show(difference)}";
    }

    private string ModuleMovesInPlace()
    {
        var config = LoadModel("tiny-moe.model.json");
        using var model = new Transformer(config);
        var before = model.Parameters().ToList();
        model.To(device);
        Require(model.Parameters().SequenceEqual(before), "the parameters are other objects after the move");
        Require(model.Parameters().All(p => p.Device == device), $"a parameter is not on {device}");
        Require(model.NamedBuffers().All(b => b.Buffer.Device == device), $"a buffer is not on {device}");
        using var optimizer = new AdamW(ParameterGroup.DecayMatricesOnly(model, 1e-3, 0.1, 0.9, 0.95, 1e-8));
        var (tokens, targets) = Batch(config, 2, 16);
        double first = 0, last = 0;
        for (var step = 0; step < 3; step++)
        {
            using var scope = DisposeScope.Begin();
            optimizer.ZeroGrad();
            using var output = model.Forward(tokens, targets);
            output.Loss!.Backward();
            optimizer.Step();
            (first, last) = (step == 0 ? output.Loss!.Item() : first, output.Loss!.Item());
        }
        Require(last < first, $"three steps on one batch did not lower the loss ({first:R} -> {last:R})");
        return $"loss {first:F4} -> {last:F4} on one batch";
    }

    private string CheckpointRoundTrip()
    {
        var config = LoadModel("tiny-mh-latentmoe.model.json");
        using var model = new Transformer(config, device: device);
        var path = Path.Combine(Path.GetTempPath(), $"moe-selftest-{Environment.ProcessId}.safetensors");
        try
        {
            SafeTensors.Save(path, model.StateDict());
            var (loaded, _) = SafeTensors.Load(path, device);
            try
            {
                Require(loaded.Values.All(t => t.Device == device), $"a loaded tensor is not on {device}");
                using var restored = new Transformer(config with { Init = config.Init with { Seed = config.Init.Seed + 1 } }, device: device);
                restored.LoadStateDict(loaded);
                foreach (var (name, tensor) in model.StateDict())
                    Require(tensor.Equal(restored.StateDict()[name]), $"{name} differs after the round trip");
                return $"{loaded.Count} tensors, {new FileInfo(path).Length} bytes";
            }
            finally
            {
                foreach (var t in loaded.Values) t.Dispose();
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private string ProcessGroupOfOne()
    {
        var address = new RendezvousAddress("127.0.0.1", RendezvousAddress.FreeLocalPort());
        using var group = ProcessGroup.Join(address, 0, 1, TimeSpan.FromSeconds(30), device);
        var values = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 4).To(device);
        group.AllReduce(values, ReduceOp.Sum);
        Require(values.To(Device.Cpu).ToArray<float>().SequenceEqual(new[] { 1f, 2f, 3f, 4f }), "all_reduce of one rank changed the values");
        var exchanged = group.AllToAll(values);
        Require(exchanged.Device == device, $"all_to_all returned a tensor on {exchanged.Device}");
        Require(exchanged.Equal(values), "all_to_all of one rank changed the values");
        return $"{group.Backend} on {group.Device}";
    }

    private string AutocastBf16()
    {
        var config = LoadModel("tiny-moe.model.json");
        using var model = new Transformer(config, device: device);
        var (tokens, targets) = Batch(config, 4, 32);
        double full;
        using (var output = model.Forward(tokens, targets)) full = output.Loss!.Item();
        double mixed;
        ScalarType productType;
        using (Autocast.Enable(device))
        {
            using var output = model.Forward(tokens, targets);
            mixed = output.Loss!.Item();
            productType = Functional.Linear(Tensor.Ones([2, 4], device: device), Tensor.Ones([3, 4], device: device)).Dtype;
        }
        var outside = Functional.Linear(Tensor.Ones([2, 4], device: device), Tensor.Ones([3, 4], device: device)).Dtype;
        Require(productType == ScalarType.BFloat16, $"a matrix product under autocast gave {productType}, not BFloat16");
        Require(outside == ScalarType.Float32, $"a matrix product after autocast gave {outside}, not Float32");
        Require(Math.Abs(mixed - full) <= AutocastLossTolerance, $"loss {mixed:R} under autocast, {full:R} in float32");
        return $"loss {mixed:F4} under autocast, {full:F4} in float32";
    }
}
