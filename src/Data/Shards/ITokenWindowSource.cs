using Orleans.MoE.Torch;

namespace Orleans.MoE.Data.Shards;

/// <summary>
/// Training windows of T + 1 consecutive token ids (inputs are the first T, targets the last T),
/// in a deterministic order that can be saved and resumed through <see cref="Position"/>.
/// </summary>
public interface ITokenWindowSource
{
    /// <summary>T: each window holds T + 1 tokens.</summary>
    int ContextLength { get; }

    int VocabSize { get; }

    /// <summary>The largest token id in the windows and the file that holds it, to check the data against a model's vocabulary.</summary>
    LargestTokenId LargestTokenId { get; }

    /// <summary>Windows in one epoch (one pass over the data).</summary>
    long WindowsPerEpoch { get; }

    /// <summary>The position of the next window; save it with a checkpoint.</summary>
    TokenWindowPosition Position { get; }

    /// <summary>Continues from a saved position; refuses one taken from other data or settings.</summary>
    void Seek(TokenWindowPosition position);

    /// <summary>Writes the next window (T + 1 ids) into the destination.</summary>
    void NextWindow(Span<long> destination);

    /// <summary>The next <paramref name="batchSize"/> windows, row-major: (B, T + 1).</summary>
    long[] NextBatch(int batchSize);

    /// <summary>The next <paramref name="batchSize"/> windows as an Int64 tensor (B, T + 1) on the CPU.</summary>
    Tensor NextBatchTensor(int batchSize);
}

/// <summary>The largest token id of some token data (-1 when there is none) and where it is (a shard's path).</summary>
public readonly record struct LargestTokenId(int Id, string Source);
