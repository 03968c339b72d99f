using Orleans.MoE.Data.Clustering;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Torch.Serialization;

namespace Orleans.MoE.Training.DisCo;

/// <summary>Where each artifact of an experiment lives under its directory.</summary>
public sealed record DisCoLayout(string Root)
{
    /// <summary>What an experiment directory is, as its marker records it (see <see cref="OutputDirectory"/>).</summary>
    public static readonly OutputKind Kind = new("disco-experiment", "an MoE-DisCo experiment (moe run)", ["experiment.json"], ReplacedAsAWhole: false);

    public string ResolvedConfig => Path.Combine(Root, "experiment.json");
    public string State => Path.Combine(Root, "state.json");
    public string Corpus => Path.Combine(Root, "corpus");
    public string Clusters => Path.Combine(Root, "clusters");
    public string Baseline => Path.Combine(Root, "baseline");
    public string Submodel(int k) => Path.Combine(Root, "submodels", $"expert-{k:D2}");
    public string Integrated => Path.Combine(Root, "integrated", "model.safetensors");
    public string FineTune => Path.Combine(Root, "fine_tune");
    public string ControlDense => Path.Combine(Root, "control", "dense");
    public string ControlUpcycled => Path.Combine(Root, "control", "upcycled", "model.safetensors");
    public string ControlFineTune => Path.Combine(Root, "control", "fine_tune");
    public string ReportDirectory => Path.Combine(Root, "report");
    public string Report => Path.Combine(ReportDirectory, "report.html");
    public string Summary => Path.Combine(ReportDirectory, "summary.md");

    public string CorpusShard(string split) => Path.Combine(Corpus, CorpusPreparation.ShardFile(split));
    public string ClusterShard(int k, string split) => Path.Combine(Clusters, CorpusClustering.ShardFile(k, split));
}
