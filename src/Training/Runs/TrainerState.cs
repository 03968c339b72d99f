using Orleans.MoE.Model;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;
using Orleans.MoE.Torch.Optim;
using Orleans.MoE.Training.Config;

namespace Orleans.MoE.Training.Runs;

/// <summary>Everything a checkpoint captures: the model, AdamW, the trainer's generator and the counters.</summary>
internal sealed class TrainerState : IDisposable
{
    /// <param name="partition">the part of the routed layers this rank holds (null: the whole model)</param>
    /// <param name="device">where the model and AdamW's state live</param>
    public TrainerState(ModelConfig model, TrainingConfig training, ExpertPartition? partition = null, Device? device = null)
    {
        ModelConfig = model;
        TrainingConfig = training;
        Model = new Transformer(model, device: device, partition: partition);
        var o = training.Optimizer;
        // Weight decay on matrices only (embeddings, projections, experts, routers); none on norm gains.
        Optimizer = new AdamW(ParameterGroup.DecayMatricesOnly(Model, o.LearningRate, o.WeightDecay, o.Beta1, o.Beta2, o.Epsilon));
        var names = new Dictionary<Parameter, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, parameter) in Model.NamedParameters()) names[parameter] = name;
        ParameterNames = Optimizer.Parameters.Select(p => names[p]).ToArray();
        Generator = new Generator(training.Seed);
    }

    public ModelConfig ModelConfig { get; }

    /// <summary>The resolved training configuration.</summary>
    public TrainingConfig TrainingConfig { get; }

    public Transformer Model { get; }

    public AdamW Optimizer { get; }

    /// <summary>The name of each of the optimizer's parameters, in the optimizer's order.</summary>
    public IReadOnlyList<string> ParameterNames { get; }

    public Generator Generator { get; }

    /// <summary>Optimizer steps completed.</summary>
    public long Step { get; set; }

    public long TokensSeen { get; set; }

    public void Dispose()
    {
        Optimizer.Dispose();
        Model.Dispose();
        Generator.Dispose();
    }
}
