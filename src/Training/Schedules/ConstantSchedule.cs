namespace Orleans.MoE.Training.Schedules;

/// <summary>The same rate at every step (the DisCo submodel phase uses 1e-4 constant).</summary>
public sealed record ConstantSchedule(double LearningRate) : ILearningRateSchedule
{
    public double At(long step) => LearningRate;
}
