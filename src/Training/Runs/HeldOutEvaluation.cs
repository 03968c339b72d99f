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
/// training, and the sums are added across ranks. A batch whose rows do not split evenly is padded
/// with copies of its last window whose targets are ignored, so every rank gets equal rows (head
/// parallelism needs them) and the result is the single process's.
/// </para>
/// </summary>
public static class HeldOutEvaluation
{
    /// <param name="maxWindows">windows to evaluate from the start of the source; null (or more than it holds) = all of one epoch</param>
    /// <param name="parallel">the rank's context in a multi-process run</param>
    public static EvaluationCompleted Evaluate(Transformer model, ITokenWindowSource source, int batchSize, long? maxWindows, long step = 0,
        ParallelContext? parallel = null)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "the evaluation batch size must be positive");
        var clock = Stopwatch.StartNew();
        var windows = Math.Min(maxWindows ?? long.MaxValue, source.WindowsPerEpoch);
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
                done += b;
                tokens += (long)b * t;
                if (parallel is null)
                {
                    var (inputs, targets) = TokenBatch.Split(source.NextBatch(b), b, t);   // (b, T) each
                    // The model's loss is the mean over the batch's b·T targets; weight it by their count.
                    nllSum += model.Forward(inputs, targets).LanguageModelLoss!.Item() * b * t;
                    continue;
                }
                var (rankInputs, rankTargets, counted) = TokenBatch.PaddedRowsOfRank(source.NextBatch(b), b, t, parallel.Rank, parallel.WorldSize);
                var loss = model.Forward(rankInputs, rankTargets).LanguageModelLoss!.Item();   // every rank runs the forward pass
                if (counted > 0) nllSum += loss * counted;
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
