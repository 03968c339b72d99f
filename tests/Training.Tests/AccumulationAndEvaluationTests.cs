using Orleans.MoE.Data.Shards;
using Orleans.MoE.Model;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.Tests;

[Collection(TrainerCollection.Name)]
public sealed class AccumulationAndEvaluationTests : IDisposable
{
    private readonly TrainingSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public void TwoMicroBatchesOfHalfTheBatchGiveTheSameUpdateAsOneBatch()
    {
        // Clipping off: the gradients compared are the accumulated ones, not rescaled.
        var (whole, wholeStep) = OneStep(TinyModels.Dense(), TrainingSandbox.Config(steps: 4, batchSize: 4, microBatches: 1, clipNorm: 0));
        var (halves, halvesStep) = OneStep(TinyModels.Dense(), TrainingSandbox.Config(steps: 4, batchSize: 4, microBatches: 2, clipNorm: 0));

        Assert.Equal(wholeStep.Loss, halvesStep.Loss, 6);
        Assert.Equal(wholeStep.GradNorm, halvesStep.GradNorm, 5);
        Assert.Equal(whole.Keys, halves.Keys);
        foreach (var name in whole.Keys)
        {
            var (g1, g2) = (whole[name].Gradient, halves[name].Gradient);
            var scale = g1.Max(Math.Abs);
            Assert.True(scale > 0, $"{name} has no gradient");
            for (var i = 0; i < g1.Length; i++) Assert.True(Math.Abs(g1[i] - g2[i]) <= 1e-5 * scale, $"{name}[{i}]: {g1[i]} vs {g2[i]}");
            // AdamW's first step moves each weight by about lr · sign(g); the weights agree to float32 precision
            // except where a gradient component is so small that eps decides its step.
            var (w1, w2) = (whole[name].Weight, halves[name].Weight);
            for (var i = 0; i < w1.Length; i++)
            {
                if (Math.Abs(g1[i]) > 1e-4 * scale) Assert.True(Math.Abs(w1[i] - w2[i]) <= 1e-6, $"{name}[{i}] weight: {w1[i]} vs {w2[i]}");
            }
        }
    }

    [Fact]
    public void MicroBatchesOfAMoeFeedTheBalancingUpdateTheCountsOfTheWholeBatch()
    {
        var model = TinyModels.Moe();
        var (whole, wholeStep) = OneStep(model, TrainingSandbox.Config(steps: 4, batchSize: 4, microBatches: 1));
        var (halves, halvesStep) = OneStep(model, TrainingSandbox.Config(steps: 4, batchSize: 4, microBatches: 2));

        var (c1, c2) = (wholeStep.Routing.Single().TokensPerExpert, halvesStep.Routing.Single().TokensPerExpert);
        Assert.Equal(4 * 8 * 2, c1.Sum());   // B · T tokens, k = 2 assignments each
        Assert.Equal(c1, c2);
        const string bias = "layers.1.ffn.balancing_bias";
        Assert.Equal(whole[bias].Weight, halves[bias].Weight);
        Assert.Contains(whole[bias].Weight, b => b != 0);   // the step did move the biases
    }

    /// <summary>One optimizer step; every state entry's values after it and, for parameters, the gradient it used.</summary>
    private (Dictionary<string, (float[] Weight, float[] Gradient)> State, StepCompleted Step) OneStep(ModelConfig model, TrainingConfig training)
    {
        using var data = _sandbox.OpenData(training);
        using var trainer = Trainer.Create(_sandbox.Job(model, training, data, Guid.NewGuid().ToString("N")));
        var step = trainer.TrainStep();
        using var scope = DisposeScope.Begin();
        var parameters = trainer.Model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        var state = trainer.Model.StateDict().ToDictionary(
            e => e.Key,
            e => (e.Value.ToArray<float>(), parameters.TryGetValue(e.Key, out var p) ? p.Grad!.ToArray<float>() : []));
        return (state, step);
    }

    [Fact]
    public void PerplexityIsTheExponentialOfTheMeanTokenNllOverTheWholeSplit()
    {
        // No eval.batches: the whole split, 5 windows of 8 targets, in batches of 2 (the last one partial).
        var training = TrainingSandbox.Config() with { Evaluation = new EvaluationConfig { Every = 0, BatchSize = 2 } };
        using var data = _sandbox.OpenData(training);
        using var trainer = Trainer.Create(_sandbox.Job(TinyModels.Dense(), training, data, "eval"));
        trainer.TrainStep();
        var evaluation = trainer.Evaluate();

        Assert.Equal(5, evaluation.Windows);
        Assert.Equal(40, evaluation.Tokens);
        var expected = HandComputedMeanNll(trainer.Model, _sandbox.ValidationFile, windows: 5, contextLength: 8);
        Assert.Equal(expected, evaluation.Loss, 5);
        Assert.Equal(Math.Exp(expected), evaluation.Perplexity, 4);
        Assert.True(trainer.Model.Training, "evaluation must restore training mode");

        // With eval.batches, only that many batches from the start of the split.
        var two = HeldOutEvaluation.Evaluate(trainer.Model, data.Validation!, batchSize: 2, maxWindows: 2);
        Assert.Equal(HandComputedMeanNll(trainer.Model, _sandbox.ValidationFile, windows: 2, contextLength: 8), two.Loss, 5);
    }

    /// <summary>Window w is tokens [8w, 8w + 9) of the shard; NLL = logsumexp(logits) - logit[target], in double, per position.</summary>
    private static double HandComputedMeanNll(Transformer model, string shard, int windows, int contextLength)
    {
        using var reader = new TokenShardReader(shard);
        using var scope = DisposeScope.Begin();
        using var noGrad = GradMode.NoGrad();
        model.Eval();
        double sum = 0;
        var count = 0;
        var vocab = model.Config.VocabSize;
        for (var w = 0; w < windows; w++)
        {
            var tokens = new long[contextLength + 1];
            reader.CopyTokens((long)w * contextLength, tokens);
            using var output = model.Forward(Tensor.FromArray(tokens[..contextLength], 1, contextLength));
            var logits = output.Logits.ToArray<float>();   // (1, T, V)
            for (var t = 0; t < contextLength; t++)
            {
                var row = logits.AsSpan(t * vocab, vocab);
                var max = double.NegativeInfinity;
                foreach (var v in row) max = Math.Max(max, v);
                double z = 0;
                foreach (var v in row) z += Math.Exp(v - max);
                sum += max + Math.Log(z) - row[(int)tokens[t + 1]];
                count++;
            }
        }
        model.Train();
        return sum / count;
    }

    [Fact]
    public void EvaluationDoesNotDisturbTraining()
    {
        var moe = TinyModels.Moe();
        var (_, without) = _sandbox.Run(moe, TrainingSandbox.Config(steps: 4), "without");
        var (_, with) = _sandbox.Run(moe, TrainingSandbox.Config(steps: 4, evalEvery: 1), "with");
        Assert.Equal(4, with.Events.OfType<EvaluationCompleted>().Count());
        Assert.Equal(without.Losses, with.Losses);
        Assert.Equal(without.Steps.Select(s => s.Routing[0].TokensPerExpert.Sum()), with.Steps.Select(s => s.Routing[0].TokensPerExpert.Sum()));

        var training = TrainingSandbox.Config(steps: 4, evalEvery: 1);
        using var data = _sandbox.OpenData(training);
        using var trainer = Trainer.Create(_sandbox.Job(moe, training, data, "counters"));
        trainer.TrainStep();
        trainer.Evaluate();
        Assert.Equal(0, trainer.Model.RoutingMetrics().Single().Tokens);
    }
}
