using System.Diagnostics;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Optim;

namespace Orleans.MoE.Client.Demo;

/// <summary>
/// Trains <see cref="TinyByteModel"/> on a text file's bytes with AdamW and prints training and
/// held-out loss as they fall. Same file, options and seed give the same numbers.
/// </summary>
internal static class ByteLevelDemo
{
    public sealed record Options(string TextFile, int Steps, ulong Seed, int Threads);

    private const int Context = 16;
    private const int BatchSize = 64;
    private const int ReportEvery = 50;
    private const double LearningRate = 3e-3;

    public static int Run(Options options, TextWriter output)
    {
        if (!File.Exists(options.TextFile))
        {
            output.WriteLine($"error: {options.TextFile} does not exist; pass another text file with --file");
            return 2;
        }
        var bytes = File.ReadAllBytes(options.TextFile);
        if (bytes.Length < 10 * (Context + 1))
        {
            output.WriteLine($"error: {options.TextFile} has {bytes.Length} bytes; the demo needs at least {10 * (Context + 1)}");
            return 2;
        }
        if (options.Steps < 1)
        {
            output.WriteLine("error: --steps must be at least 1");
            return 2;
        }

        TorchRuntime.Threads = options.Threads;
        var split = bytes.Length * 9 / 10;
        using var train = Tensor.FromArray(bytes.AsSpan(0, split).ToArray().Select(b => (long)b).ToArray()).DetachFromScope();
        using var heldOut = Tensor.FromArray(bytes.AsSpan(split).ToArray().Select(b => (long)b).ToArray()).DetachFromScope();

        using var generator = new Generator(options.Seed);
        using var model = new TinyByteModel(Context, embeddingDim: 24, hiddenDim: 256, generator);
        using var optimizer = new AdamW(ParameterGroup.DecayMatricesOnly(model, LearningRate, weightDecay: 0.01));

        output.WriteLine($"Orleans.MoE demo: byte-level model on {options.TextFile} ({bytes.Length:N0} bytes, 90% train / 10% held out)");
        output.WriteLine($"libtorch {TorchRuntime.Version}, {TorchRuntime.Threads} thread(s), {model.ParameterCount():N0} parameters, " +
                         $"batch {BatchSize} x context {Context}, {options.Steps} steps, seed {options.Seed}");
        output.WriteLine($"loss of a uniform guess: {Math.Log(TinyByteModel.Vocabulary):F3} nats/byte");
        output.WriteLine();
        output.WriteLine($"{"step",6} {"train loss",11} {"held-out",9} {"lr",9} {"ms/step",8}");

        var clock = Stopwatch.StartNew();
        double runningLoss = 0;
        for (var step = 1; step <= options.Steps; step++)
        {
            using var scope = DisposeScope.Begin();
            var lr = CosineWithWarmup(step, options.Steps, LearningRate);
            optimizer.SetLearningRate(lr);
            var (contexts, targets) = SampleBatch(train, generator);
            var loss = Functional.CrossEntropy(model.Forward(contexts), targets);
            optimizer.ZeroGrad();
            loss.Backward();
            GradientClipping.ClipGradNorm(model.Parameters(), 1.0);
            optimizer.Step();
            runningLoss += loss.Item();

            if (step % ReportEvery == 0 || step == options.Steps)
            {
                var count = step % ReportEvery == 0 ? ReportEvery : step % ReportEvery;
                var heldOutLoss = Evaluate(model, heldOut);
                output.WriteLine($"{step,6} {runningLoss / count,11:F4} {heldOutLoss,9:F4} {lr,9:E2} {clock.Elapsed.TotalMilliseconds / step,8:F2}");
                runningLoss = 0;
            }
        }

        var final = Evaluate(model, heldOut);
        output.WriteLine();
        output.WriteLine($"held-out loss {final:F4} nats/byte, perplexity {Math.Exp(final):F2} (uniform: 256), {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"sample: \"{Sample(model, bytes.AsSpan(split, Context).ToArray(), 120)}\"");
        return 0;
    }

    private static double CosineWithWarmup(int step, int total, double peak)
    {
        var warmup = Math.Max(1, total / 20);
        if (step <= warmup) return peak * step / warmup;
        var progress = (double)(step - warmup) / Math.Max(1, total - warmup);
        return peak * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>Random windows: contexts (B, C) and the byte after each (B).</summary>
    private static (Tensor Contexts, Tensor Targets) SampleBatch(Tensor data, Generator generator)
    {
        var starts = Tensor.RandInt(0, data.Size(0) - Context, [BatchSize, 1], generator);   // (B, 1)
        var offsets = Tensor.Arange(Context + 1).Unsqueeze(0);                              // (1, C+1)
        var windows = data.IndexSelect(0, (starts + offsets).Flatten()).View(BatchSize, Context + 1); // (B, C+1)
        return (windows.Narrow(1, 0, Context), windows.Select(1, Context));
    }

    /// <summary>Mean next-byte loss over every position of the held-out bytes.</summary>
    private static double Evaluate(TinyByteModel model, Tensor data)
    {
        using var scope = DisposeScope.Begin();
        using var noGrad = GradMode.NoGrad();
        var n = data.Size(0) - Context;
        var starts = Tensor.Arange(n).Unsqueeze(1);                                          // (N, 1)
        var windows = data.IndexSelect(0, (starts + Tensor.Arange(Context + 1).Unsqueeze(0)).Flatten())
            .View(n, Context + 1);                                                           // (N, C+1)
        var logits = model.Forward(windows.Narrow(1, 0, Context));                           // (N, 256)
        return Functional.CrossEntropy(logits, windows.Select(1, Context)).Item();
    }

    /// <summary>Greedy continuation of a prompt, with non-printable bytes shown as '.'.</summary>
    private static string Sample(TinyByteModel model, byte[] prompt, int length)
    {
        using var noGrad = GradMode.NoGrad();
        var text = new List<byte>(prompt);
        for (var i = 0; i < length; i++)
        {
            using var scope = DisposeScope.Begin();
            var context = Tensor.FromArray(text.Skip(text.Count - Context).Select(b => (long)b).ToArray(), 1, Context);
            text.Add((byte)model.Forward(context).ArgMax(1).ItemInt64());
        }
        return new string(text.Select(b => b is >= 32 and < 127 ? (char)b : b == '\n' ? ' ' : '.').ToArray());
    }
}
