using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Torch.Optim;

/// <summary>Parameters that share AdamW hyperparameters. Defaults are torch.optim.AdamW's.</summary>
public sealed record ParameterGroup(
    IReadOnlyList<Parameter> Parameters,
    double LearningRate,
    double WeightDecay = 0.01,
    double Beta1 = 0.9,
    double Beta2 = 0.999,
    double Epsilon = 1e-8)
{
    /// <summary>
    /// The usual split for transformers: weight decay on matrices (dim >= 2), none on vectors such as
    /// norms' gains and biases. Group 0 decays, group 1 does not.
    /// </summary>
    public static IReadOnlyList<ParameterGroup> DecayMatricesOnly(Module module, double learningRate, double weightDecay,
        double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        var parameters = module.Parameters().ToList();
        var decay = parameters.Where(p => p.Dim >= 2).ToList();
        var noDecay = parameters.Where(p => p.Dim < 2).ToList();
        return
        [
            new ParameterGroup(decay, learningRate, weightDecay, beta1, beta2, epsilon),
            new ParameterGroup(noDecay, learningRate, 0.0, beta1, beta2, epsilon),
        ];
    }
}
