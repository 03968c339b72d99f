namespace Orleans.MoE.Training.Schedules;

/// <summary>The learning rate for an optimizer step, counted from 0.</summary>
public interface ILearningRateSchedule
{
    double At(long step);
}
