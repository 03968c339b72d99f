using Orleans.MoE.Training.Schedules;

namespace Orleans.MoE.Training.Tests;

public class ScheduleTests
{
    [Fact]
    public void ConstantIsConstant()
    {
        var s = new ConstantSchedule(1e-4);
        Assert.Equal(1e-4, s.At(0));
        Assert.Equal(1e-4, s.At(123_456));
    }

    [Fact]
    public void CosineWarmsUpLinearlyThenFollowsHalfCosineToMinimum()
    {
        var s = new CosineSchedule(Peak: 1.0, WarmupSteps: 4, TotalSteps: 14, Minimum: 0.1);
        Assert.Equal(0.25, s.At(0), 12);
        Assert.Equal(0.75, s.At(2), 12);
        Assert.Equal(1.0, s.At(4), 12);                 // warm-up done: the peak
        // Steps 4..13 span 9 intervals; the midpoint of the cosine is halfway between peak and minimum.
        Assert.Equal(0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * 3 / 9)), s.At(7), 12);
        Assert.Equal(0.1, s.At(13), 12);
        Assert.Equal(0.1, s.At(100), 12);
        for (var step = 4; step < 13; step++) Assert.True(s.At(step + 1) < s.At(step));
    }

    [Fact]
    public void WarmupStableDecayIsATrapezoid()
    {
        var s = new WarmupStableDecaySchedule(Peak: 2.0, WarmupSteps: 2, DecaySteps: 4, TotalSteps: 10, Minimum: 0.0);
        Assert.Equal(new[] { 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.5, 1.0, 0.5, 0.0 },
            Enumerable.Range(0, 10).Select(i => Math.Round(s.At(i), 12)).ToArray());
    }
}
