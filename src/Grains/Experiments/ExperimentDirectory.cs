using System.Text;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Training.DisCo;

namespace Orleans.MoE.Grains.Experiments;

/// <summary>
/// The experiment directory records the experiment it was made for (experiment.json, canonical: sorted
/// keys, defaults filled in); another experiment is refused, while the same one whose file changed
/// only in comments or formatting is recognised.
/// </summary>
internal static class ExperimentDirectory
{
    public static void Prepare(DisCoLayout layout, ExperimentPlan plan, DisCoExperimentConfig config)
    {
        try
        {
            OutputDirectory.Claim(layout.Root, DisCoLayout.Kind, inputs: config.Data.Paths).Open();   // nothing of another kind is mixed in
        }
        catch (OutputDirectoryException e)
        {
            throw new ExperimentConflictException(e.Message);   // a message every client understands
        }
        if (File.Exists(layout.ResolvedConfig) && !DisCoExperimentLoader.IsSameExperiment(File.ReadAllText(layout.ResolvedConfig), config))
            throw new ExperimentConflictException(
                $"{layout.Root} holds another experiment ({layout.ResolvedConfig} differs from {plan.Source}); choose another directory or delete it");
        AtomicFile.Write(layout.ResolvedConfig, s => s.Write(Encoding.UTF8.GetBytes(DisCoExperimentLoader.ToCanonicalJson(config))));
    }
}
