using Orleans.MoE.Config;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Data.Tokenization;
using Orleans.MoE.Torch.Distributed;
using Orleans.MoE.Training.Parallel;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Client;

/// <summary>
/// Turns a failure into one line for the user. Errors of bad input (files, configs, arguments, a run
/// directory in the wrong state) already name the file, the field and the fix, so their message is
/// all that is shown (exit 2). A multi-process run that lost a rank is explained by its message too
/// (exit 1). Anything else is a bug and also gets its type, with the stack trace when MOE_DEBUG=1.
/// </summary>
internal static class CommandErrors
{
    public const int BadInput = 2;
    public const int Failure = 1;

    public static int Report(Exception e, TextWriter error)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerExceptions[0];
        if (IsBadInput(e))
        {
            error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        if (e is RankFailureException or CollectiveException)
        {
            error.WriteLine($"error: {e.Message}");
            return Failure;
        }
        error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
        if (Environment.GetEnvironmentVariable("MOE_DEBUG") == "1") error.WriteLine(e);
        else error.WriteLine("(set MOE_DEBUG=1 to print the stack trace)");
        return Failure;
    }

    private static bool IsBadInput(Exception e) =>
        e is IOException or UnauthorizedAccessException or ArgumentException or FormatException or InvalidDataException
            or ConfigException or CorpusFormatException or DebianPackageException or TokenShardFormatException
            or TokenizerFormatException or RunDirectoryException or SiloMetadataException or ExperimentConflictException;
}
