namespace Orleans.MoE.Training.Parallel;

/// <summary>How the ranks of a multi-process run share the model. Every mode is data parallel for the shared weights.</summary>
public enum ParallelMode
{
    /// <summary>Every rank holds the whole model; gradients are averaged and expert loads summed across ranks.</summary>
    Data,
    /// <summary>Multi-Head LatentMoE: rank p holds heads [p N_h / P, (p + 1) N_h / P) with their routers, biases and experts.</summary>
    Head,
    /// <summary>MoE and LatentMoE: rank p holds experts [p N_e / P, (p + 1) N_e / P); the router stays shared.</summary>
    Expert,
}
