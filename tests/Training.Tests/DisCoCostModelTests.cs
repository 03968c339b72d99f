using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Training.Tests;

/// <summary>The cost model reproduces the paper's Table 3 from its times and prices.</summary>
public class DisCoCostModelTests
{
    private static DisCoCostReport Paper(double sHours, double fHours, double fullHours) =>
        DisCoCostModel.Evaluate(new DisCoTimes(Enumerable.Repeat(sHours * 3600, 4).ToList(), fHours * 3600, fullHours * 3600),
            DevicePriceTable.Paper);

    [Theory]
    // Model/dataset: S-Time, F-Time, Full Time (h) -> S-Cost, F-Cost, Full Cost, Total Cost ($), reduction, break-even
    [InlineData(2.09, 1.73, 9.87, 2.9260, 3.9444, 22.5036, 6.8704, 0.6947, 0.974)]   // Qwen, C4
    [InlineData(1.28, 0.68, 3.04, 1.7920, 1.5504, 6.9312, 3.3424, 0.5178, 0.461)]    // Qwen, WikiText-2
    [InlineData(1.54, 2.01, 5.64, 2.1560, 4.5828, 12.8592, 6.7388, 0.4760, 0.589)]   // Llama, C4
    [InlineData(1.46, 2.67, 7.45, 2.0440, 6.0876, 16.9860, 8.1316, 0.5213, 0.818)]   // Llama, WikiText-2
    public void ReproducesTable3(double s, double f, double full, double sCost, double fCost, double fullCost, double total,
        double reduction, double breakEven)
    {
        var r = Paper(s, f, full);
        Assert.Equal(sCost, r.SubmodelPhaseDollars, 4);
        Assert.Equal(fCost, r.FineTuneDollars, 4);
        Assert.Equal(fullCost, r.BaselineDollars, 4);
        Assert.Equal(total, r.TotalDollars, 4);
        Assert.Equal(s + f, r.TotalHours, 9);
        Assert.Equal(reduction, r.Reduction, 4);
        Assert.Equal(breakEven, DisCoCostModel.BreakEvenPriceRatio(r, 4), 3);
    }

    [Fact]
    public void SumVariantChargesEachSubmodelItsOwnTimeAndAllInAddsTheOtherPhases()
    {
        var prices = new DevicePriceTable(new DeviceClass("cheap", 1.0, relativeThroughput: 2.0), new DeviceClass("big", 4.0));
        var r = DisCoCostModel.Evaluate(new DisCoTimes([3600, 7200], FineTuneSeconds: 1800, BaselineSeconds: 7200,
            ClusteringSeconds: 3600, IntegrationSeconds: 900), prices);
        // Submodels take 0.5 h and 1 h on the cheap class (twice as fast as here).
        Assert.Equal(1.0, r.SubmodelPhaseHours, 12);
        Assert.Equal(2 * 1.0 * 1.0, r.SubmodelPhaseDollars, 12);
        Assert.Equal(1.5 * 1.0, r.SubmodelPhaseDollarsSumVariant, 12);
        Assert.Equal(0.5 * 4.0, r.FineTuneDollars, 12);
        Assert.Equal(0.5 * 1.0, r.ClusteringDollars, 12);          // on the cheap class by default
        Assert.Equal(0.25 * 4.0, r.IntegrationDollars, 12);
        Assert.Equal(2.0 + 2.0 + 0.5 + 1.0, r.TotalDollarsAllIn, 12);
        Assert.Equal(1 - 4.0 / 8.0, r.Reduction, 12);
        Assert.Equal(1 - 3.5 / 8.0, r.ReductionSumVariant, 12);
    }
}
