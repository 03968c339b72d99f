namespace Orleans.MoE.Training.Schedules;

/// <summary>
/// Warmup-stable-decay ("trapezoidal", as the Multi-Head LatentMoE runs use): linear warm-up over
/// WarmupSteps, Peak until the last DecaySteps, then a linear decay that reaches Minimum at the
/// last step (TotalSteps - 1).
/// </summary>
public sealed record WarmupStableDecaySchedule(double Peak, long WarmupSteps, long DecaySteps, long TotalSteps, double Minimum = 0.0)
    : ILearningRateSchedule
{
    public double At(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        var decayStart = TotalSteps - DecaySteps;
        if (step < decayStart) return Peak;
        if (step >= TotalSteps - 1) return Minimum;
        var progress = (double)(step - decayStart + 1) / DecaySteps;
        return Peak + (Minimum - Peak) * progress;
    }
}
