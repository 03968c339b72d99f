using Orleans.MoE.Torch;

namespace Orleans.MoE.Training.Runs;

internal static class TokenBatch
{
    /// <summary>Windows (B, T + 1), row-major, into inputs (B, T) = the first T tokens and targets (B, T) = the last T, both Int64.</summary>
    public static (Tensor Inputs, Tensor Targets) Split(long[] windows, int batch, int contextLength)
    {
        var width = contextLength + 1;
        if (windows.Length != batch * width)
            throw new ArgumentException($"expected {batch} windows of {width} tokens, got {windows.Length} tokens", nameof(windows));
        var inputs = new long[batch * contextLength];
        var targets = new long[batch * contextLength];
        for (var b = 0; b < batch; b++)
        {
            var row = windows.AsSpan(b * width, width);
            row[..contextLength].CopyTo(inputs.AsSpan(b * contextLength));
            row[1..].CopyTo(targets.AsSpan(b * contextLength));
        }
        return (Tensor.FromArray(inputs, batch, contextLength), Tensor.FromArray(targets, batch, contextLength));
    }

    /// <summary>Rank r's rows [r·B/P, (r+1)·B/P) of inputs and targets (B, T): its share of a global batch.</summary>
    public static (Tensor Inputs, Tensor Targets) RowsOfRank(Tensor inputs, Tensor targets, int rank, int ranks)
    {
        var rows = inputs.Size(0) / ranks;
        return (inputs.Narrow(0, rank * rows, rows), targets.Narrow(0, rank * rows, rows));
    }

    /// <summary>
    /// Rank r's equal share of b windows (B, T + 1) for evaluation: rows padded to a multiple of P with
    /// copies of the last window whose targets are -100 (ignored), then rows [r·B'/P, (r+1)·B'/P).
    /// Returns inputs and targets (B'/P, T) and how many targets of this rank count.
    /// </summary>
    public static (Tensor Inputs, Tensor Targets, long Counted) PaddedRowsOfRank(long[] windows, int batch, int contextLength, int rank, int ranks)
    {
        var padded = (batch + ranks - 1) / ranks * ranks;
        var width = contextLength + 1;
        var all = new long[padded * width];
        windows.CopyTo(all, 0);
        for (var row = batch; row < padded; row++) windows.AsSpan((batch - 1) * width, width).CopyTo(all.AsSpan(row * width));
        var (inputs, targets) = Split(all, padded, contextLength);
        var rows = padded / ranks;
        var targetValues = targets.ToArray<long>();
        for (var row = batch; row < padded; row++) Array.Fill(targetValues, -100L, row * contextLength, contextLength);
        var mine = Tensor.FromArray(targetValues.AsSpan(rank * rows * contextLength, rows * contextLength).ToArray(), rows, contextLength);
        var counted = (long)Math.Clamp(batch - rank * rows, 0, rows) * contextLength;
        return (inputs.Narrow(0, rank * rows, rows), mine, counted);
    }
}
