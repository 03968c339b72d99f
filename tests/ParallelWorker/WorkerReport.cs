using System.Text.Json;
using Orleans.MoE.Training.Parallel;

namespace Orleans.MoE.ParallelWorker;

/// <summary>What one rank of a training run writes to <c>rank{r}.json</c>.</summary>
public sealed record TrainingReport(string Mode, int Rank, int WorldSize, int TokensPerRank, int DModel, int TopK,
    IReadOnlyList<StepReport> Steps)
{
    public static string FileName(int rank) => $"rank{rank}.json";

    /// <summary>Rank 0's whole-model gradients per step ("step{s}/{name}") and final state ("final/{name}").</summary>
    public const string TensorsFile = "whole.safetensors";
}

/// <summary>
/// One step on one rank: the global mean loss, the whole model's gradient 2-norm, this rank's ledger, and the expert counts each routed
/// layer saw (all ranks' tokens: summed for expert and data parallel, the local heads' for head parallel).
/// </summary>
public sealed record StepReport(int Step, double Loss, double LocalLoss, double GradientNorm, IReadOnlyList<LedgerRow> Ledger, IReadOnlyList<LayerCounts> Routing);

public sealed record LayerCounts(int Layer, long[] Counts);

/// <summary>A <see cref="CommunicationRecord"/> in plain fields.</summary>
public sealed record LedgerRow(int? Layer, string Collective, long Calls, long BackwardCalls, long BytesSent, long BytesReceived,
    long RemoteBytesSent, long RemoteBytesReceived)
{
    public static LedgerRow From(CommunicationRecord r) => new(r.Layer, r.Collective, r.Traffic.Calls, r.Traffic.BackwardCalls,
        r.Traffic.BytesSent, r.Traffic.BytesReceived, r.Traffic.RemoteBytesSent, r.Traffic.RemoteBytesReceived);
}

/// <summary>What one rank of the imbalance experiment writes to <c>zipf{r}.json</c>.</summary>
public sealed record ZipfReport(int Rank, int WorldSize, int TokensPerRank, int TopK, int Experts, int DModel, int Heads,
    IReadOnlyList<ZipfSkewReport> Skews)
{
    public static string FileName(int rank) => $"zipf{rank}.json";
}

/// <summary>
/// One skew on one rank. Expert parallel: the token copies (d wide) this rank received, its dispatch and
/// metadata bytes. Head parallel: the bytes its exchange received, and the sub-token-expert pairs it computed.
/// </summary>
public sealed record ZipfSkewReport(double Skew, long ExpertReceivedCopies, LedgerRow ExpertDispatch, LedgerRow ExpertMetadata,
    LedgerRow HeadDispatch, long HeadAssignments);

public static class ReportFiles
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static void Write<T>(string path, T report) => File.WriteAllText(path, JsonSerializer.Serialize(report, Options));

    public static T Read<T>(string path) =>
        JsonSerializer.Deserialize<T>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} holds no report");
}
