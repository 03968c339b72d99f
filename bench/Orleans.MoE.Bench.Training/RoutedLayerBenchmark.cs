using System.Diagnostics;
using System.Globalization;
using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Bench.Training;

/// <summary>
/// One routed layer's forward + backward, fused kernels against the reference ones, in the same run: the
/// layers of moe_small.json (d = 256, N_e = 16, k = 2, d_e = 256) as MoE and as Multi-Head LatentMoE with
/// N_h = 4 and 8 (d_h = d / N_h; N_e, k and d_e per head), on batch x seq tokens. Samples alternate between
/// the two kernels (the order flips every repetition); the ratio is the median of reference / fused over
/// the pairs. Also the peak resident memory of whole training steps, measured in a child process per
/// kernel (see <see cref="PeakMemoryChild"/>).
/// </summary>
internal static class RoutedLayerBenchmark
{
    private const int DModel = 256;

    private static readonly (string Name, Func<RoutedKernels, FfnConfig> Ffn)[] Layers =
    [
        ("moe", k => Ffn(FfnKind.Moe, k, null)),
        ("mh_latent_moe N_h=4", k => Ffn(FfnKind.MultiHeadLatentMoe, k, 4)),
        ("mh_latent_moe N_h=8", k => Ffn(FfnKind.MultiHeadLatentMoe, k, 8)),
    ];

    private static FfnConfig Ffn(FfnKind kind, RoutedKernels kernels, int? heads) => new()
    {
        Kind = kind,
        Moe = new MoeConfig { NumExperts = 16, TopK = 2, ExpertDim = 256, Kernels = kernels },
        Heads = heads is { } h ? new HeadsConfig { NumHeads = h } : null,
    };

    private static ModelConfig Model(FfnConfig ffn) => new()
    {
        VocabSize = 4096, DModel = DModel, NumLayers = 4, MaxSeqLen = 256,
        Attention = new AttentionConfig { NumHeads = 4 },
        Layers = new LayersConfig { FirstDense = 1, Dense = new DenseMlpConfig { HiddenDim = 1024 }, Ffn = ffn },
        Init = new InitConfig { Seed = 1 },
    };

    public static int Run(TrainingBenchOptions o, string? selfCommand)
    {
        var tokens = o.Batch * o.SequenceLength;
        Console.WriteLine($"routed layer forward + backward, {tokens} tokens, {TorchRuntime.Threads} threads; ratio = reference / fused (median of pairs)");
        Console.WriteLine($"{"layer",-22} {"reference ms",13} {"fused ms",9} {"ratio",6}");
        var breakdowns = new List<(string Name, double Layer, double Router, double Experts)>();
        foreach (var (name, ffn) in Layers)
        {
            var (reference, fused, ratio, router, experts) = TimeLayer(ffn, tokens, o);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-22} {reference * 1e3,13:F1} {fused * 1e3,9:F1} {ratio,6:F2}"));
            breakdowns.Add((name, fused, router, experts));
        }
        Console.WriteLine();
        Console.WriteLine("fused layer, split (medians, ms): the router call and the expert call alone, forward + backward; the rest is the");
        Console.WriteLine("layer's own projections (W_in, W_out, or none for MoE), layout copies and managed calls");
        Console.WriteLine($"{"layer",-22} {"layer",7} {"router",7} {"experts",8} {"rest",6} {"experts share",14}");
        foreach (var (name, layer, router, experts) in breakdowns)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-22} {layer * 1e3,7:F1} {router * 1e3,7:F1} {experts * 1e3,8:F1} {(layer - router - experts) * 1e3,6:F1} {experts / layer,14:P0}"));
        if (selfCommand is null) return 0;
        Console.WriteLine();
        Console.WriteLine($"peak resident memory of {PeakMemoryChild.Steps} training steps (4 blocks, batch {o.Batch} x {o.SequenceLength}), one process per kernel; growth over the resident size before the first step");
        Console.WriteLine($"{"model",-22} {"reference MiB",14} {"fused MiB",10} {"fused / reference",18}");
        foreach (var (name, _) in Layers)
        {
            var reference = PeakMemoryChild.Measure(selfCommand, name, RoutedKernels.Reference, o);
            var fused = PeakMemoryChild.Measure(selfCommand, name, RoutedKernels.Fused, o);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-22} {reference / 1048576.0,14:F1} {fused / 1048576.0,10:F1} {fused / (double)reference,18:F2}"));
        }
        return 0;
    }

    /// <summary>The model of one row of the table (used by the memory child).</summary>
    public static ModelConfig ModelOf(string name, RoutedKernels kernels) => Model(Layers.Single(l => l.Name == name).Ffn(kernels));

    /// <summary>
    /// Both kernels' layer forward + backward, alternating; then the fused layer's router and expert calls
    /// alone on the same shapes (the rows of every group, (G, n, w), drawn at random and routed by the layer's
    /// own router), to show which part bounds the layer.
    /// </summary>
    private static (double Reference, double Fused, double Ratio, double Router, double Experts) TimeLayer(
        Func<RoutedKernels, FfnConfig> ffn, int tokens, TrainingBenchOptions o)
    {
        using var scope = DisposeScope.Begin();
        var layers = new[] { RoutedKernels.Reference, RoutedKernels.Fused }.Select(k =>
        {
            var config = Model(ffn(k));
            using var init = new WeightInit(seed: 1, std: 0.02, numLayers: config.NumLayers);
            return TransformerBlock.CreateFfn(config, 1, init);   // the same weights for both kernels
        }).ToArray();
        using var generator = new Generator(3);
        var x = Tensor.Randn([tokens, DModel], generator).RequiresGrad_();
        var probe = Tensor.Randn([tokens, DModel], generator);

        double Sample(FeedForward layer)
        {
            using var step = DisposeScope.Begin();
            var start = Stopwatch.GetTimestamp();
            (layer.Forward(x).Output * probe).Sum().Backward();
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            x.ZeroGrad();
            layer.ZeroGrad();
            if (layer is RoutedFeedForward routed) routed.Statistics.Reset();
            return seconds;
        }

        foreach (var layer in layers)
            for (var i = 0; i < o.WarmupSteps; i++) Sample(layer);
        var samples = new double[2][];
        samples[0] = new double[o.Repetitions];
        samples[1] = new double[o.Repetitions];
        for (var r = 0; r < o.Repetitions; r++)
        {
            for (var k = 0; k < 2; k++)
            {
                var which = (r + k) % 2;
                Thread.Sleep(TrainingBenchmark.Settle);
                samples[which][r] = Sample(layers[which]);
            }
        }
        var (routerSeconds, expertSeconds) = TimeParts((RoutedFeedForward)layers[1], tokens, o);
        foreach (var layer in layers) layer.Dispose();
        var ratio = ConfigResult.Median(samples[0].Zip(samples[1], (a, b) => a / b).ToArray());
        return (ConfigResult.Median(samples[0]), ConfigResult.Median(samples[1]), ratio, routerSeconds, expertSeconds);
    }

    private static (double Router, double Experts) TimeParts(RoutedFeedForward layer, int tokens, TrainingBenchOptions o)
    {
        using var scope = DisposeScope.Begin();
        var (router, bank) = layer switch
        {
            MoeFeedForward m => ((Tensor)m.Router.Unsqueeze(0), m.Experts),
            MultiHeadLatentMoeFeedForward h => (h.Router, h.Experts),
            _ => throw new ArgumentException($"no split for {layer.GetType().Name}"),
        };
        var (groups, width) = (router.Size(0), router.Size(2));
        using var generator = new Generator(4);
        var rows = Tensor.Randn([groups, tokens, width], generator).RequiresGrad_();   // (G, n, w)
        var probeGates = Tensor.Randn([groups * tokens, layer.TopK], generator);
        var probeRows = Tensor.Randn([groups * tokens, width], generator);
        FusedRoute routed;
        using (GradMode.NoGrad()) routed = FusedRouting.Route(rows, router, layer.BalancingBias, layer.TopK);
        var counts = routed.Counts.ToArray<long>();
        var gates = routed.Gates.Detach().RequiresGrad_();

        double Time(Action step)
        {
            var times = new double[o.Repetitions];
            for (var i = 0; i < o.WarmupSteps + o.Repetitions; i++)
            {
                using var inner = DisposeScope.Begin();
                Thread.Sleep(TrainingBenchmark.Settle);
                var start = Stopwatch.GetTimestamp();
                step();
                if (i >= o.WarmupSteps) times[i - o.WarmupSteps] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                rows.ZeroGrad();
                gates.ZeroGrad();
                layer.ZeroGrad();
            }
            return ConfigResult.Median(times);
        }

        var routerSeconds = Time(() => (FusedRouting.Route(rows, router, layer.BalancingBias, layer.TopK).Gates * probeGates).Sum().Backward());
        var flat = rows.View(groups * tokens, width);
        var expertSeconds = Time(() =>
            (FusedRouting.Experts(flat, gates, routed.Order, counts, bank.WUp, bank.WGate, bank.WDown, bank.WGate is not null) * probeRows).Sum().Backward());
        return (routerSeconds, expertSeconds);
    }
}
