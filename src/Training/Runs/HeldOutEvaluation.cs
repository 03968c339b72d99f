using System.Diagnostics;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Model;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Training.Runs;

/// <summary>
/// Perplexity on held-out windows: exp of the mean token negative log-likelihood over every target
/// of the windows evaluated. Runs without autograd and in evaluation mode (training mode is restored
/// after), always from the start of the source, so successive evaluations see the same windows; the
/// routing counters are cleared afterwards so that evaluation never moves the balancing biases.
/// <para>
/// In a multi-process run every rank calls it: each batch is split by rows over the ranks as in
/// training, and the sums are added across ranks. The window count is rounded down to a multiple of
/// the world size so that every rank gets equal rows.
/// </para>
/// </summary>
public static class HeldOutEvaluation
{
    /// <param name="maxWindows">windows to evaluate from the start of the source; null (or more than it holds) = all of one epoch</param>
    /// <param name="parallel">the rank's context in a multi-process run (batchSize must then be a multiple of the world size)</param>
    public static EvaluationCompleted Evaluate(Transformer model, ITokenWindowSource source, int batchSize, long? maxWindows, long step = 0,
        ParallelContext? parallel = null)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "the evaluation batch size must be positive");
        var ranks = parallel?.WorldSize ?? 1;
        if (batchSize % ranks != 0)
            throw new ArgumentException($"the evaluation batch size {batchSize} does not split over {ranks} ranks; use a multiple of {ranks}", nameof(batchSize));
        var clock = Stopwatch.StartNew();
        var windows = Math.Min(maxWindows ?? long.MaxValue, source.WindowsPerEpoch);
        windows -= windows % ranks;
        var t = source.ContextLength;
        source.Seek(new TokenWindowPosition(0, 0, source.Position.Fingerprint));

        var wasTraining = model.Training;
        model.Eval();
        double nllSum = 0;
        long tokens = 0;
        try
        {
            using var noGrad = GradMode.NoGrad();
            for (long done = 0; done < windows;)
            {
                var b = (int)Math.Min(batchSize, windows - done);
                using var scope = DisposeScope.Begin();
                var (inputs, targets) = TokenBatch.Split(source.NextBatch(b), b, t);   // (b, T) each
                if (parallel is not null) (inputs, targets) = TokenBatch.RowsOfRank(inputs, targets, parallel.Rank, ranks);
                var output = model.Forward(inputs, targets);
                // The model's loss is the mean over the batch's b·T targets (b / P on a rank); weight it by their count.
                nllSum += output.LanguageModelLoss!.Item() * (b / ranks) * t;
                tokens += (long)b * t;
                done += b;
            }
        }
        finally
        {
            model.Train(wasTraining);
            model.ResetRoutingStatistics();
        }
        if (parallel is not null) nllSum = parallel.Sum([nllSum])[0];
        var mean = nllSum / tokens;
        return new EvaluationCompleted(step, mean, Math.Exp(mean), tokens, windows, clock.Elapsed.TotalSeconds);
    }
}
