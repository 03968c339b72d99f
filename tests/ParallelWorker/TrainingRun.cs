using Orleans.MoE.Model;
using Orleans.MoE.Model.Routing;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Torch.Optim;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.ParallelWorker;

/// <summary>
/// A few training steps of the tiny model on this rank's rows [r B / P, (r + 1) B / P) of fixed global
/// batches: forward, (mean loss / P) backward, gradient sum, then the whole gradients are gathered and
/// saved by rank 0 before a plain SGD step and the balancing-bias update (both change the routing of the
/// next step). <see cref="WorkerMode.Single"/> runs the whole model with no process group.
/// </summary>
public static class TrainingRun
{
    private const double LearningRate = 0.5;

    // The gradient norm is reported, never reached: the gradients stay as computed.
    private const double NoClipping = 1e9;

    public static void Execute(WorkerOptions options, int topK, ProcessGroup? group)
    {
        var worldSize = group?.WorldSize ?? 1;
        var rank = group?.Rank ?? 0;
        using var context = group is null ? null : new ParallelContext(group, ModeOf(options.Mode));
        var config = WorkerModels.For(options.Model, topK, options.Experts);
        using var model = new Transformer(config, partition: context?.Partition);
        context?.Attach(model);
        context?.BroadcastSharedWeights(model);
        var partial = model.PartialTensors;
        var output = Directory.CreateDirectory(Path.Combine(options.Output, $"k{topK}")).FullName;

        var rowsPerRank = WorkerModels.GlobalBatch / worldSize;
        var whole = new Dictionary<string, Tensor>();
        var steps = new List<StepReport>();
        for (var step = 0; step < options.Steps; step++)
        {
            using var scope = DisposeScope.Begin();
            var (inputs, targets) = WorkerModels.GlobalBatchAt(step);
            var shape = new long[] { WorkerModels.GlobalBatch, WorkerModels.SeqLen };
            var localInputs = Tensor.FromArray(inputs, shape).Narrow(0, rank * rowsPerRank, rowsPerRank);    // (B/P, T)
            var localTargets = Tensor.FromArray(targets, shape).Narrow(0, rank * rowsPerRank, rowsPerRank);  // (B/P, T)
            using var forward = model.Forward(localInputs.Contiguous(), localTargets.Contiguous());
            var localLoss = forward.Loss!.Item();
            (forward.Loss! * (1.0 / worldSize)).Backward();
            context?.SynchronizeGradients(model);
            context?.SynchronizeRoutingLoad(model);
            var loss = context?.Average(localLoss) ?? localLoss;
            var norm = context?.ClipGradients(model, NoClipping) ?? GradientClipping.ClipGradNorm(model.Parameters(), NoClipping);

            var gradients = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad ?? throw new InvalidOperationException($"{p.Name} got no gradient"));
            var gathered = context?.GatherWhole(gradients, partial) ?? gradients;
            if (rank == 0)
                foreach (var (name, g) in gathered) whole[$"step{step}/{name}"] = g.Clone().DetachFromScope();

            var routing = model.RoutedLayers.Select(r => new LayerCounts(r.Layer, r.Ffn.Statistics.Counts.ToArray())).ToArray();
            var ledger = context?.Ledger.ReadAndReset().Select(LedgerRow.From).ToArray() ?? [];
            steps.Add(new StepReport(step, loss, localLoss, norm, ledger, routing));

            model.UpdateBalancingBiases();
            using (GradMode.NoGrad())
            {
                foreach (var p in model.Parameters())
                {
                    using var g = p.Grad!;
                    p.Add_(g, -LearningRate);
                }
            }
            model.ZeroGrad();
        }

        var final = context?.GatherWhole(model.StateDict(), partial) ?? model.StateDict();
        if (rank == 0)
        {
            foreach (var (name, t) in final) whole[$"final/{name}"] = t;
            SafeTensors.Save(Path.Combine(output, TrainingReport.TensorsFile), whole);
        }
        ReportFiles.Write(Path.Combine(output, TrainingReport.FileName(rank)),
            new TrainingReport(options.Mode.ToString().ToLowerInvariant(), rank, worldSize,
                rowsPerRank * WorkerModels.SeqLen, config.DModel, topK, steps));
    }

    private static ParallelMode ModeOf(WorkerMode mode) => mode switch
    {
        WorkerMode.Head => ParallelMode.Head,
        WorkerMode.Expert => ParallelMode.Expert,
        WorkerMode.Data => ParallelMode.Data,
        _ => throw new ArgumentException($"{mode} is not a parallel training mode"),
    };
}
