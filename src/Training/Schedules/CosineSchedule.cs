namespace Orleans.MoE.Training.Schedules;

/// <summary>
/// Linear warm-up from Peak/WarmupSteps to Peak over WarmupSteps, then a half cosine from Peak down
/// to Minimum at TotalSteps - 1; Minimum afterwards.
/// </summary>
public sealed record CosineSchedule(double Peak, long WarmupSteps, long TotalSteps, double Minimum = 0.0) : ILearningRateSchedule
{
    public double At(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        var span = TotalSteps - 1 - WarmupSteps;
        if (span <= 0 || step >= TotalSteps - 1) return step >= TotalSteps - 1 ? Minimum : Peak;
        var progress = (double)(step - WarmupSteps) / span;
        return Minimum + (Peak - Minimum) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
