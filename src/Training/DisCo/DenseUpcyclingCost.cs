namespace Orleans.MoE.Training.DisCo;

/// <summary>Hours and dollars of the dense-upcycling control under the same price table as DisCo.</summary>
public sealed record DenseUpcyclingCostReport(
    double DenseHours,
    double DenseDollars,
    double UpcycleHours,
    double UpcycleDollars,
    double FineTuneHours,
    double FineTuneDollars,
    double BaselineDollars)
{
    /// <summary>Dense submodel + fine-tune: the counterpart of DisCo's total under the paper's formula.</summary>
    public double TotalDollars => DenseDollars + FineTuneDollars;

    /// <summary>Plus the copy into the expert slots, the counterpart of DisCo's integration.</summary>
    public double TotalDollarsAllIn => TotalDollars + UpcycleDollars;

    /// <summary>Wall time: the dense submodel and the fine-tune run one after the other.</summary>
    public double TotalHours => DenseHours + FineTuneHours;

    public double Reduction => 1 - TotalDollars / BaselineDollars;

    public double ReductionAllIn => 1 - TotalDollarsAllIn / BaselineDollars;
}

/// <summary>
/// The cost model applied to the control: the dense submodel is as small as one DisCo submodel, so it
/// runs on one low-cost device (it trains on all the data in one run, so there is nothing to spread
/// over more devices without communication); the copy and the fine-tune run on the high-memory
/// device, like DisCo's integration and fine-tune. With the default budget (the S-phase's tokens) its
/// dollars compare with DisCo's "each submodel charged its own time" total.
/// </summary>
public static class DenseUpcyclingCostModel
{
    public static DenseUpcyclingCostReport Evaluate(double denseSeconds, double upcycleSeconds, double fineTuneSeconds,
        double baselineSeconds, DevicePriceTable prices)
    {
        var (low, high) = (prices.LowCost, prices.HighMemory);
        var dense = low.Hours(denseSeconds);
        var upcycle = high.Hours(upcycleSeconds);
        var fineTune = high.Hours(fineTuneSeconds);
        return new DenseUpcyclingCostReport(
            DenseHours: dense,
            DenseDollars: dense * low.DollarsPerHour,
            UpcycleHours: upcycle,
            UpcycleDollars: upcycle * high.DollarsPerHour,
            FineTuneHours: fineTune,
            FineTuneDollars: fineTune * high.DollarsPerHour,
            BaselineDollars: high.Hours(baselineSeconds) * high.DollarsPerHour);
    }
}
