using System.Text;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Grains.Experiments;

/// <summary>The experiment directory holds the experiment file it was made for (experiment.json); another experiment is refused.</summary>
internal static class ExperimentDirectory
{
    public static void Prepare(DisCoLayout layout, ExperimentPlan plan)
    {
        Directory.CreateDirectory(layout.Root);
        if (File.Exists(layout.ResolvedConfig))
        {
            if (File.ReadAllText(layout.ResolvedConfig) != plan.ExperimentJson)
                throw new ExperimentConflictException(
                    $"{layout.Root} holds another experiment ({layout.ResolvedConfig} differs from {plan.Source}); choose another directory or delete it");
            return;
        }
        AtomicFile.Write(layout.ResolvedConfig, s => s.Write(Encoding.UTF8.GetBytes(plan.ExperimentJson)));
    }
}
