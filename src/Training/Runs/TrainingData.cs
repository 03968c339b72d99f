using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Data.Shards;

namespace Orleans.MoE.Training.Runs;

/// <summary>
/// The token windows a run trains on (shuffled by the training seed, resumable by position) and the
/// held-out windows it evaluates on (in shard order, from the start at every evaluation). Any
/// <see cref="ITokenWindowSource"/> fits; <see cref="Open"/> builds both from token shard files.
/// </summary>
public sealed class TrainingData : IDisposable
{
    private readonly IDisposable[] _owned;

    public TrainingData(ITokenWindowSource train, ITokenWindowSource? validation, string description, params IDisposable[] owned)
    {
        if (validation is not null && validation.ContextLength != train.ContextLength)
            throw new ArgumentException($"validation windows hold {validation.ContextLength} tokens but training windows {train.ContextLength}", nameof(validation));
        Train = train;
        Validation = validation;
        Description = description;
        _owned = owned;
    }

    public ITokenWindowSource Train { get; }

    public ITokenWindowSource? Validation { get; }

    /// <summary>Where the data comes from, for messages.</summary>
    public string Description { get; }

    /// <summary>The files the data is read from (training and validation), when known: a run directory may not hold them.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>
    /// Opens a prepared corpus directory (its <c>train.tokens</c>, and <c>validation.tokens</c> for
    /// evaluation) or one or more token shard files to train on, with optional validation shard files
    /// (which replace a corpus directory's validation split).
    /// </summary>
    public static TrainingData Open(IReadOnlyList<string> paths, IReadOnlyList<string>? validationPaths, int contextLength, ulong seed)
    {
        if (paths.Count == 0) throw new ArgumentException("no training data was given: pass a prepared corpus directory or token files", nameof(paths));
        var trainFiles = new List<string>();
        var validationFiles = validationPaths?.ToList() ?? [];
        foreach (var path in paths)
        {
            if (!Directory.Exists(path))
            {
                trainFiles.Add(path);
                continue;
            }
            var train = Path.Combine(path, CorpusPreparation.ShardFile(CorpusSplits.Train));
            if (!File.Exists(train))
                throw new FileNotFoundException(
                    $"{path}: not a prepared corpus ({CorpusPreparation.ShardFile(CorpusSplits.Train)} is missing); prepare one with `moe prepare --out {path}`, or give token shard files", train);
            trainFiles.Add(train);
            var validation = Path.Combine(path, CorpusPreparation.ShardFile(CorpusSplits.Validation));
            if (validationPaths is null && File.Exists(validation)) validationFiles.Add(validation);
        }

        TokenWindowSampler? trainSampler = null;
        try
        {
            trainSampler = TokenWindowSampler.Open(trainFiles, contextLength, seed, shuffle: true);
            var validationSampler = validationFiles.Count == 0 ? null : TokenWindowSampler.Open(validationFiles, contextLength, seed: 0, shuffle: false);
            var description = string.Join(", ", trainFiles) + (validationFiles.Count > 0 ? $" (validation: {string.Join(", ", validationFiles)})" : " (no validation split)");
            var files = trainFiles.Concat(validationFiles).ToList();
            return validationSampler is null
                ? new TrainingData(trainSampler, null, description, trainSampler) { Files = files }
                : new TrainingData(trainSampler, validationSampler, description, trainSampler, validationSampler) { Files = files };
        }
        catch
        {
            trainSampler?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
    }
}
