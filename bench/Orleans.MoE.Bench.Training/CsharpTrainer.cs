using Orleans.MoE.Model;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Optim;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Bench.Training;

/// <summary>
/// The C# side: a <see cref="Transformer"/> trained on one fixed batch. A step is what a trainer does per
/// optimizer step without gradient accumulation: forward with the loss, backward, AdamW step, zero_grad,
/// and the auxiliary-loss-free bias update from the step's expert load; the loss is read back to the host.
/// </summary>
internal sealed class CsharpTrainer : IDisposable
{
    // The same on the PyTorch side (bench/python/torch_train_step.py).
    public const double LearningRate = 5e-4;
    public const double Beta1 = 0.9;
    public const double Beta2 = 0.95;
    public const double WeightDecay = 0.1;
    public const double Epsilon = 1e-8;

    private readonly Transformer _model;
    private readonly AdamW _optimizer;
    private readonly Tensor _tokens;    // (B, T) Int64
    private readonly Tensor _targets;   // (B, T) Int64

    public CsharpTrainer(ModelConfig config, int batch, int sequenceLength, ulong dataSeed = 7)
    {
        Config = config;
        _model = new Transformer(config);
        _optimizer = new AdamW(ParameterGroup.DecayMatricesOnly(_model, LearningRate, WeightDecay, Beta1, Beta2, Epsilon));
        using var generator = new Generator(dataSeed);
        _tokens = Tensor.RandInt(0, config.VocabSize, [batch, sequenceLength], generator).DetachFromScope();
        _targets = Tensor.RandInt(0, config.VocabSize, [batch, sequenceLength], generator).DetachFromScope();
        ParameterCount = _model.ParameterCount();
    }

    public ModelConfig Config { get; }

    public long ParameterCount { get; }

    public long TokensPerStep => _tokens.NumElements;

    /// <summary>One training step; returns its loss (computed before the update). The clock, if any, times its phases.</summary>
    public double Step(PhaseClock? clock = null)
    {
        using var scope = DisposeScope.Begin();
        var output = _model.Forward(_tokens, _targets);
        var loss = output.Loss!;
        clock?.Mark("forward");
        loss.Backward();
        clock?.Mark("backward");
        _optimizer.Step();
        _optimizer.ZeroGrad();
        clock?.Mark("optimizer");
        _model.UpdateBalancingBiases();
        var value = loss.Item();
        clock?.Mark("balancing");
        return value;
    }

    /// <summary>
    /// Writes what the PyTorch side needs to train the same model from the same state: the configuration
    /// (metadata "config"), every parameter and balancing bias as "param.&lt;name&gt;", and the batch.
    /// Call before the first step.
    /// </summary>
    public void SaveForPyTorch(string path)
    {
        var tensors = _model.StateDict().ToDictionary(kv => "param." + kv.Key, kv => kv.Value);
        tensors["input.tokens"] = _tokens;
        tensors["input.targets"] = _targets;
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["config"] = ModelConfigLoader.ToJson(Config) });
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _tokens.Dispose();
        _targets.Dispose();
    }
}
