using Orleans.MoE.Training.Config;

namespace Orleans.MoE.Training.Schedules;

public static class LearningRateSchedules
{
    /// <summary>The schedule a training configuration describes; its peak is optimizer.lr.</summary>
    public static ILearningRateSchedule From(TrainingConfig config)
    {
        var s = config.Schedule;
        var peak = config.Optimizer.LearningRate;
        return s.Kind switch
        {
            ScheduleKind.Constant => new ConstantSchedule(peak),
            ScheduleKind.Cosine => new CosineSchedule(peak, s.WarmupSteps ?? 0, config.Steps, s.MinLr ?? 0),
            ScheduleKind.WarmupStableDecay => new WarmupStableDecaySchedule(peak, s.WarmupSteps ?? 0,
                s.DecaySteps ?? throw new ArgumentException("warmup_stable_decay needs schedule.decay_steps", nameof(config)), config.Steps, s.MinLr ?? 0),
            _ => throw new ArgumentOutOfRangeException(nameof(config), s.Kind, "unknown schedule kind"),
        };
    }
}
