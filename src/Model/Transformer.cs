using Orleans.MoE.Model.Blocks;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Model;

/// <summary>
/// A decoder-only transformer language model: token embedding, pre-norm blocks whose FFN is dense for
/// the first <c>layers.first_dense</c> layers and of the configured kind after, a final RMSNorm and a
/// bias-free classifier (untied from the embedding unless <c>tie_embeddings</c>).
/// <para>
/// Per optimizer step a trainer calls <see cref="Forward"/> (and backward) on each micro-batch, then
/// <see cref="UpdateBalancingBiases"/> once: the routed layers count their expert load in training mode
/// across all micro-batches, and the balancing biases move by that global load.
/// </para>
/// <para>
/// Parameter names (the safetensors keys): <c>token_embedding</c> (V, d); <c>layers.{i}.attn_norm.weight</c>,
/// <c>layers.{i}.attn.wqkv</c> (3d, d), <c>layers.{i}.attn.wo</c> (d, d), <c>layers.{i}.ffn_norm.weight</c>,
/// <c>layers.{i}.ffn.*</c>; <c>final_norm.weight</c>; <c>classifier</c> (V, d), absent when tied. Routed
/// layers also hold the persistent buffer <c>layers.{i}.ffn.balancing_bias</c> (G, N_e).
/// </para>
/// </summary>
public sealed class Transformer : Module
{
    private readonly RoutedFeedForward[] _routed;
    private readonly int[] _routedLayer;

    /// <summary>
    /// Builds the model with weights drawn from <c>init.seed</c>: the same configuration gives the same
    /// weights. The configuration is validated first. With a <paramref name="partition"/> the routed
    /// layers hold only that part of their heads (Multi-Head LatentMoE) or experts (MoE, LatentMoE), with
    /// exactly the weights the whole model has there.
    /// </summary>
    public Transformer(ModelConfig config, ScalarType dtype = ScalarType.Float32, Device? device = null, ExpertPartition? partition = null)
    {
        ModelConfigValidator.Validate(config);
        Config = config;
        Dtype = dtype;
        Partition = partition ?? ExpertPartition.Whole;
        using var init = new WeightInit(config.Init.Seed, config.Init.Std, config.NumLayers, dtype, device);
        TokenEmbedding = RegisterParameter("token_embedding", init.Normal(config.VocabSize, config.DModel));
        Blocks = RegisterModule("layers", new ModuleList<TransformerBlock>(
            Enumerable.Range(0, config.NumLayers).Select(i => new TransformerBlock(config, i, init, Partition))));
        FinalNorm = RegisterModule("final_norm", new RmsNorm(config.DModel, config.NormEps, init));
        Classifier = config.TieEmbeddings ? TokenEmbedding : RegisterParameter("classifier", init.Normal(config.VocabSize, config.DModel));

        var routed = Blocks.Where(b => b.Ffn is RoutedFeedForward).ToArray();
        _routed = routed.Select(b => (RoutedFeedForward)b.Ffn).ToArray();
        _routedLayer = routed.Select(b => b.Layer).ToArray();
    }

    public ModelConfig Config { get; }

    /// <summary>The part of the routed layers' heads or experts this model holds.</summary>
    public ExpertPartition Partition { get; }

    /// <summary>
    /// The state-dict entries held only in part (experts, and for Multi-Head LatentMoE also routers and
    /// balancing biases), with the rows of the whole model's dimension 0 they hold. Everything else is
    /// whole on every rank. Empty for a whole model.
    /// </summary>
    public IReadOnlyDictionary<string, RowSlice> PartialTensors =>
        RoutedLayers.SelectMany(r => r.Ffn.PartialTensors.Select(kv => (Name: $"layers.{r.Layer}.ffn.{kv.Key}", Slice: kv.Value)))
            .ToDictionary(x => x.Name, x => x.Slice);

    public ScalarType Dtype { get; }

    /// <summary>Where the weights are (see <see cref="Module.To(Device)"/>); <see cref="Forward"/> moves its inputs here.</summary>
    public Device Device => TokenEmbedding.Device;

    /// <summary>(V, d)</summary>
    public Parameter TokenEmbedding { get; }

    public ModuleList<TransformerBlock> Blocks { get; }

    public RmsNorm FinalNorm { get; }

    /// <summary>(V, d); the embedding itself when tied.</summary>
    public Parameter Classifier { get; }

    /// <summary>The routed FFNs with their layer index, in layer order.</summary>
    public IReadOnlyList<(int Layer, RoutedFeedForward Ffn)> RoutedLayers =>
        _routed.Select((f, i) => (_routedLayer[i], f)).ToArray();

    /// <summary>Accumulate the router entropy in the routing metrics (one extra softmax per routed layer and forward).</summary>
    public bool TrackRouterEntropy
    {
        get => _routed.Any(r => r.TrackRouterEntropy);
        set
        {
            foreach (var r in _routed) r.TrackRouterEntropy = value;
        }
    }

    /// <summary>
    /// tokens (B, T) Int64 -> logits (B, T, V). With targets (B, T) Int64 (positions equal to
    /// <paramref name="ignoreIndex"/> do not count) the output also holds the losses.
    /// </summary>
    public ModelOutput Forward(Tensor tokens, Tensor? targets = null, long ignoreIndex = -100)
    {
        var shape = tokens.Shape;
        if (shape.Length != 2 || shape[1] > Config.MaxSeqLen || shape[1] == 0)
            throw new ArgumentException(
                $"tokens must have shape (batch, length) with 1 <= length <= max_seq_len ({Config.MaxSeqLen}), got [{string.Join(", ", shape)}]",
                nameof(tokens));
        using var scope = DisposeScope.Begin();
        // Token ids are made on the host; they follow the weights to the model's device.
        var device = Device;
        if (tokens.Device != device) tokens = tokens.To(device);
        if (targets is not null && targets.Device != device) targets = targets.To(device);
        var x = Functional.Embedding(TokenEmbedding, tokens);            // (B, T, d)
        Tensor? aux = null;
        foreach (var block in Blocks)
        {
            var output = block.Forward(x);
            x = output.Output;
            if (output.AuxLoss is { } blockAux) aux = aux is null ? blockAux : aux + blockAux;
        }
        var logits = Functional.Linear(FinalNorm.Forward(x), Classifier);  // (B, T, V)
        if (targets is null) return new ModelOutput(scope.MoveToOuter(logits), null, null, null);

        var vocab = Config.VocabSize;
        var languageModelLoss = Functional.CrossEntropy(logits.View(-1, vocab), targets.Reshape(-1), ignoreIndex);
        var loss = aux is null ? languageModelLoss : languageModelLoss + aux;
        return new ModelOutput(scope.MoveToOuter(logits), scope.MoveToOuter(loss),
            ReferenceEquals(loss, languageModelLoss) ? loss : scope.MoveToOuter(languageModelLoss),
            aux is null ? null : scope.MoveToOuter(aux));
    }

    /// <summary>
    /// Ends an optimizer step for load balancing: every routed layer moves its bias by the load counted
    /// since the previous call (rate defaults to <c>balancing.bias_update_rate</c>; 0 only reports) and
    /// clears its counters. Returns that load's metrics, per layer and, for Multi-Head LatentMoE, per head.
    /// </summary>
    public IReadOnlyList<RoutingMetrics> UpdateBalancingBiases(double? rate = null)
    {
        var metrics = new List<RoutingMetrics>();
        for (var i = 0; i < _routed.Length; i++) metrics.AddRange(_routed[i].EndStep(_routedLayer[i], rate));
        return metrics;
    }

    /// <summary>The load counted since the last update or reset, without changing anything.</summary>
    public IReadOnlyList<RoutingMetrics> RoutingMetrics()
    {
        var metrics = new List<RoutingMetrics>();
        for (var i = 0; i < _routed.Length; i++) metrics.AddRange(_routed[i].Metrics(_routedLayer[i]));
        return metrics;
    }

    /// <summary>Clears the load counters (e.g. after evaluating in training mode).</summary>
    public void ResetRoutingStatistics()
    {
        foreach (var r in _routed) r.Statistics.Reset();
    }
}
