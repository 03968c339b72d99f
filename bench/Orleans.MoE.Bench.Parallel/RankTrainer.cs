using System.Diagnostics;
using Orleans.MoE.Model;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Torch.Optim;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.Bench.Parallel;

/// <summary>
/// One rank's part of one model (head parallel or expert parallel) and its shard of the global batch.
/// A step is a data-parallel training step as the trainer runs it: forward on the shard with this rank's
/// mean loss divided by P, backward (the exchanges' backward all-to-alls included), the gradient
/// all-reduce of the shared weights, AdamW step, zero_grad, the routing-load sum and the balancing-bias
/// update, and the loss read back.
/// </summary>
internal sealed class RankTrainer : IDisposable
{
    private readonly Transformer _model;
    private readonly ParallelContext _context;
    private readonly AdamW _optimizer;
    private readonly Tensor _tokens;    // (B / P, T) Int64: this rank's rows of the global batch
    private readonly Tensor _targets;   // (B / P, T) Int64

    public RankTrainer(ProcessGroup group, ParallelMode mode, ModelConfig config, int globalBatch, int sequenceLength)
    {
        if (globalBatch % group.WorldSize != 0)
            throw new ArgumentException($"the global batch ({globalBatch} sequences) must divide by the {group.WorldSize} ranks; set --batch to a multiple of it");
        Mode = mode;
        _context = new ParallelContext(group, mode);
        _model = new Transformer(config, partition: _context.Partition);
        _context.Attach(_model);
        _context.BroadcastSharedWeights(_model);
        _optimizer = new AdamW(ParameterGroup.DecayMatricesOnly(_model, 5e-4, 0.1, 0.9, 0.95));

        // The same global batch on every rank and for both models; each rank keeps its own rows.
        var rows = globalBatch / group.WorldSize;
        using var scope = DisposeScope.Begin();
        using var generator = new Generator(7);
        var tokens = Tensor.RandInt(0, config.VocabSize, [globalBatch, sequenceLength], generator);
        var targets = Tensor.RandInt(0, config.VocabSize, [globalBatch, sequenceLength], generator);
        _tokens = tokens.Narrow(0, (long)group.Rank * rows, rows).Contiguous().DetachFromScope();
        _targets = targets.Narrow(0, (long)group.Rank * rows, rows).Contiguous().DetachFromScope();
    }

    public ParallelMode Mode { get; }

    /// <summary>One training step; returns its wall time and the loss of this rank's shard.</summary>
    public (double Milliseconds, double Loss) Step()
    {
        using var scope = DisposeScope.Begin();
        var clock = Stopwatch.StartNew();
        var output = _model.Forward(_tokens, _targets);
        var loss = output.Loss!;
        (loss / _context.WorldSize).Backward();
        _context.SynchronizeGradients(_model);
        _optimizer.Step();
        _optimizer.ZeroGrad();
        _context.SynchronizeRoutingLoad(_model);
        _model.UpdateBalancingBiases();
        var value = loss.Item();
        return (clock.Elapsed.TotalMilliseconds, value);
    }

    /// <summary>
    /// The bytes this rank moved since the last call, split into the routed layers' exchanges
    /// (dispatch, combine, metadata; backward passes included) and the gradient all-reduce. "Remote"
    /// counts only what crossed to or from another rank.
    /// </summary>
    public StepTraffic ReadTraffic()
    {
        TrafficTotals exchange = default, gradients = default, metadata = default;
        foreach (var record in _context.Ledger.ReadAndReset())
        {
            if (record.Layer is null) gradients += record.Traffic;
            else
            {
                exchange += record.Traffic;
                if (record.Collective == "metadata") metadata += record.Traffic;
            }
        }
        return new StepTraffic(exchange.RemoteBytesSent, exchange.RemoteBytesReceived, metadata.RemoteBytesSent,
            gradients.RemoteBytesSent, gradients.RemoteBytesReceived, exchange.BytesSent);
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _context.Dispose();
        _tokens.Dispose();
        _targets.Dispose();
    }
}

/// <summary>One rank's bytes in one step (see <see cref="RankTrainer.ReadTraffic"/>).</summary>
internal readonly record struct StepTraffic(long ExchangeSent, long ExchangeReceived, long MetadataSent,
    long GradientSent, long GradientReceived, long ExchangeSentWithSelf);
