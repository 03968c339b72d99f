namespace Orleans.MoE.Training.Reports;

/// <summary>A labelled line across the plot at a fixed value, such as a target loss or the start of a phase.</summary>
public sealed record ReferenceLine(string Label, double Value);
