using System.Text.Json.Nodes;
using Orleans.MoE.Model;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Training.DisCo;

/// <summary>
/// The dense-upcycling control's phases, recorded in the same state.json as DisCo's (so an
/// interrupted control resumes like any other phase): train one dense submodel on all the data,
/// copy it into every expert slot, fine-tune it exactly as DisCo's merged model is fine-tuned
/// (same settings, same stopping target), and evaluate it like DisCo.
/// </summary>
public static class DenseUpcyclingControl
{
    public const string Dense = "control_dense";
    public const string Upcycle = "control_upcycle";
    public const string FineTune = "control_fine_tune";
    public const string Evaluate = "control_evaluate";

    public static readonly IReadOnlyList<string> Phases = [Dense, Upcycle, FineTune, Evaluate];

    internal static JsonObject Run(string phase, DisCoPhaseContext context) => phase switch
    {
        Dense => RunDense(context),
        Upcycle => RunUpcycle(context),
        FineTune => RunFineTune(context),
        Evaluate => RunEvaluate(context),
        _ => throw new ArgumentException($"'{phase}' is not a phase of the dense-upcycling control"),
    };

    /// <summary>The same decomposition and S-phase settings as DisCo's submodels; only the data (all of it) and the length (the budget) differ.</summary>
    private static JsonObject RunDense(DisCoPhaseContext c)
    {
        var (config, layout) = (c.Config, c.Layout);
        var training = config.Submodels with { Steps = config.DenseUpcycling.ResolvedSteps(config.Submodels, config.Experts) };
        using var initial = DisCoPhases.InitialWeights(config);
        using var slice = new OwnedWeights(ExpertDecomposition.SubmodelState(config.Model, initial.Tensors, config.DenseUpcycling.Expert));
        var measurements = DisCoPhases.Training(PhaseTraining.Run(
            new PhaseTrainingJob(ExpertDecomposition.SubmodelConfig(config.Model), training, DisCoPhases.CorpusTrain(layout),
                DisCoPhases.CorpusValidation(layout), layout.ControlDense, slice.Tensors, Attempt: c.Attempt),
            c.Progress, c.Cancellation, targetWindow: config.TargetLossWindow));
        measurements["tokens"] = measurements["steps"]!.GetValue<long>() * training.TokensPerStep;
        return measurements;
    }

    private static JsonObject RunUpcycle(DisCoPhaseContext c)
    {
        var (config, layout) = (c.Config, c.Layout);
        using var dense = new OwnedWeights(DisCoPhases.FinalWeights(layout.ControlDense));
        using var initial = DisCoPhases.InitialWeights(config);
        using var upcycled = new OwnedWeights(DenseUpcycling.Upcycle(config.Model, dense.Tensors,
            config.Integration.Router == RouterInitialisation.Initial ? initial.Tensors : null));
        using var model = new Transformer(config.Model);
        model.LoadStateDict(upcycled.Tensors);
        Directory.CreateDirectory(Path.GetDirectoryName(layout.ControlUpcycled)!);
        SafeTensors.Save(layout.ControlUpcycled, model.StateDict());
        var heldOut = DisCoEvaluation.Perplexity(model, DisCoPhases.CorpusValidation(layout), config.FineTune.ContextLength,
            config.FineTune.MicroBatchSize, DisCoPhases.EvaluationWindows(config));
        c.Log.WriteLine($"upcycled control before fine-tuning: held-out perplexity {heldOut.Perplexity:F2}");
        return new JsonObject { ["held_out_loss"] = heldOut.Loss, ["held_out_perplexity"] = heldOut.Perplexity };
    }

    private static JsonObject RunFineTune(DisCoPhaseContext c)
    {
        var target = DisCoPhases.TargetLoss(c);
        using var upcycled = new OwnedWeights(SafeTensors.Load(c.Layout.ControlUpcycled).Tensors);
        var measurements = DisCoPhases.Training(PhaseTraining.Run(
            new PhaseTrainingJob(c.Config.Model, c.Config.FineTune, DisCoPhases.CorpusTrain(c.Layout), DisCoPhases.CorpusValidation(c.Layout),
                c.Layout.ControlFineTune, upcycled.Tensors, c.Parallel, c.Attempt),
            c.Progress, c.Cancellation, target, c.Config.TargetLossWindow));
        measurements["target_loss"] = target;
        return measurements;
    }

    private static JsonObject RunEvaluate(DisCoPhaseContext c)
    {
        using var model = new Transformer(c.Config.Model);
        using (var weights = new OwnedWeights(DisCoPhases.FinalWeights(c.Layout.ControlFineTune))) model.LoadStateDict(weights.Tensors);
        var result = DisCoFinalEvaluation.Measure(c.Config, c.Layout, model);
        c.Log.WriteLine($"dense-upcycling control: held-out perplexity {(double)result["held_out_perplexity"]!:F2}");
        return result;
    }
}
