using System.Text.Json.Nodes;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Model;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// The dense-upcycling control's phases, run after DisCo's and recorded in the same state.json (so an
/// interrupted control resumes like any other phase): train one dense submodel on all the data,
/// copy it into every expert slot, fine-tune it exactly as DisCo's merged model is fine-tuned
/// (same settings, same stopping target), and evaluate it like DisCo.
/// </summary>
internal static class DenseUpcyclingControl
{
    public const string Dense = "control_dense";
    public const string Upcycle = "control_upcycle";
    public const string FineTune = "control_fine_tune";
    public const string Evaluate = "control_evaluate";

    public static readonly IReadOnlyList<string> Phases = [Dense, Upcycle, FineTune, Evaluate];

    public static void Run(DisCoExperimentConfig config, DisCoLayout layout, DisCoState state, IReadOnlyDictionary<string, Tensor> initialState,
        double? target, TextWriter log, IProgress<TrainingEvent>? progress, CancellationToken cancellation)
    {
        var spec = config.DenseUpcycling;
        var corpusTrain = new[] { layout.CorpusShard(CorpusSplits.Train) };
        var corpusValidation = new[] { layout.CorpusShard(CorpusSplits.Validation) };

        // The same decomposition and S-phase settings as DisCo's submodels; only the data (all of it)
        // and the length (the budget) differ.
        DisCoRunner.Phase(state, Dense, log, () =>
        {
            var training = config.Submodels with { Steps = spec.ResolvedSteps(config.Submodels, config.Experts) };
            var slice = ExpertDecomposition.SubmodelState(config.Model, initialState, spec.Expert);
            try
            {
                var measurements = DisCoRunner.Training(PhaseTraining.Run(
                    new PhaseTrainingJob(ExpertDecomposition.SubmodelConfig(config.Model), training, corpusTrain, corpusValidation, layout.ControlDense, slice),
                    progress, cancellation, targetWindow: config.TargetLossWindow));
                measurements["tokens"] = measurements["steps"]!.GetValue<long>() * training.TokensPerStep;
                return measurements;
            }
            finally
            {
                foreach (var t in slice.Values) t.Dispose();
            }
        });

        DisCoRunner.Phase(state, Upcycle, log, () =>
        {
            var dense = DisCoRunner.FinalWeights(layout.ControlDense);
            try
            {
                var upcycled = DenseUpcycling.Upcycle(config.Model, dense,
                    config.Integration.Router == RouterInitialisation.Initial ? initialState : null);
                using var model = new Transformer(config.Model);
                model.LoadStateDict(upcycled);
                foreach (var t in upcycled.Values) t.Dispose();
                Directory.CreateDirectory(Path.GetDirectoryName(layout.ControlUpcycled)!);
                SafeTensors.Save(layout.ControlUpcycled, model.StateDict());
                var heldOut = DisCoEvaluation.Perplexity(model, corpusValidation, config.FineTune.ContextLength,
                    config.FineTune.MicroBatchSize, DisCoRunner.EvaluationWindows(config));
                log.WriteLine($"upcycled control before fine-tuning: held-out perplexity {heldOut.Perplexity:F2}");
                return new JsonObject { ["held_out_loss"] = heldOut.Loss, ["held_out_perplexity"] = heldOut.Perplexity };
            }
            finally
            {
                foreach (var t in dense.Values) t.Dispose();
            }
        });

        DisCoRunner.Phase(state, FineTune, log, () =>
        {
            var (upcycled, _) = SafeTensors.Load(layout.ControlUpcycled);
            try
            {
                var measurements = DisCoRunner.Training(PhaseTraining.Run(
                    new PhaseTrainingJob(config.Model, config.FineTune, corpusTrain, corpusValidation, layout.ControlFineTune, upcycled),
                    progress, cancellation, target, config.TargetLossWindow));
                measurements["target_loss"] = target;
                return measurements;
            }
            finally
            {
                foreach (var t in upcycled.Values) t.Dispose();
            }
        });

        DisCoRunner.Phase(state, Evaluate, log, () =>
        {
            using var model = new Transformer(config.Model);
            var weights = DisCoRunner.FinalWeights(layout.ControlFineTune);
            model.LoadStateDict(weights);
            foreach (var t in weights.Values) t.Dispose();
            var result = DisCoFinalEvaluation.Measure(config, layout, model);
            log.WriteLine($"dense-upcycling control: held-out perplexity {(double)result["held_out_perplexity"]!:F2}");
            return result;
        });
    }
}
