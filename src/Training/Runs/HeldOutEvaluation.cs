using System.Diagnostics;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Model;
using Orleans.MoE.Torch;

namespace Orleans.MoE.Training.Runs;

/// <summary>
/// Perplexity on held-out windows: exp of the mean token negative log-likelihood over every target
/// of the windows evaluated. Runs without autograd and in evaluation mode (training mode is restored
/// after), always from the start of the source, so successive evaluations see the same windows; the
/// routing counters are cleared afterwards so that evaluation never moves the balancing biases.
/// </summary>
public static class HeldOutEvaluation
{
    /// <param name="maxWindows">windows to evaluate from the start of the source; null (or more than it holds) = all of one epoch</param>
    public static EvaluationCompleted Evaluate(Transformer model, ITokenWindowSource source, int batchSize, long? maxWindows, long step = 0)
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
                var (inputs, targets) = TokenBatch.Split(source.NextBatch(b), b, t);   // (b, T) each
                var output = model.Forward(inputs, targets);
                // The model's loss is the mean over the batch's b·T targets; weight it by their count.
                nllSum += output.LanguageModelLoss!.Item() * b * t;
                tokens += (long)b * t;
                done += b;
            }
        }
        finally
        {
            model.Train(wasTraining);
            model.ResetRoutingStatistics();
        }
        var mean = nllSum / tokens;
        return new EvaluationCompleted(step, mean, Math.Exp(mean), tokens, windows, clock.Elapsed.TotalSeconds);
    }
}
