using Orleans.MoE.Data.Shards;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Training.Tests;

[Collection(TrainerCollection.Name)]
public sealed class TrainingDataTests : IDisposable
{
    private readonly TrainingSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public void APreparedCorpusDirectoryGivesItsTrainingAndValidationSplits()
    {
        var corpus = Path.GetDirectoryName(_sandbox.TrainFile)!;   // holds train.tokens and validation.tokens
        using var data = TrainingData.Open([corpus], null, contextLength: 8, seed: 3);
        Assert.Equal(1799 / 8, data.Train.WindowsPerEpoch);
        Assert.Equal(45 / 8, data.Validation!.WindowsPerEpoch);
        Assert.Contains(_sandbox.ValidationFile, data.Description);

        using var trainOnly = TrainingData.Open([_sandbox.TrainFile], null, contextLength: 8, seed: 3);
        Assert.Null(trainOnly.Validation);
    }

    [Fact]
    public void ADirectoryThatIsNotACorpusIsRefusedWithTheFix()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_sandbox.Root, "empty")).FullName;
        var e = Assert.Throws<FileNotFoundException>(() => TrainingData.Open([empty], null, 8, 0));
        Assert.Contains($"{empty}: not a prepared corpus (train.tokens is missing); prepare one with `moe prepare --out {empty}`", e.Message);
    }

    [Fact]
    public void DataMustFitTheModelAndTheEvaluationSettings()
    {
        var wide = Path.Combine(_sandbox.Root, "wide.tokens");
        TokenShardWriter.Write(wide, 64, [Enumerable.Range(0, 100).Select(i => i % 64).ToArray()]);
        var training = TrainingSandbox.Config();
        using (var data = TrainingData.Open([wide], null, training.ContextLength, training.Seed))
        {
            var e = Assert.Throws<ArgumentException>(() => Trainer.Create(_sandbox.Job(TinyModels.Dense(), training, data, "wide")));
            Assert.Contains($"{wide}: holds token id 63, but the model's vocab_size is 32 (ids 0 to 31); set vocab_size to at least 64", e.Message);
        }
        using (var data = TrainingData.Open([_sandbox.TrainFile], null, training.ContextLength, training.Seed))
        {
            var e = Assert.Throws<ArgumentException>(() =>
                Trainer.Create(_sandbox.Job(TinyModels.Dense(), TrainingSandbox.Config(evalEvery: 2), data, "no-validation")));
            Assert.Contains("eval.every is 2 but there is no validation split; give validation data or set eval.every to 0", e.Message);
        }
    }
}
