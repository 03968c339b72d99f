using System.CommandLine;
using System.Text.RegularExpressions;
using Orleans.MoE.Config;
using Orleans.MoE.Data.Corpora;
using Orleans.MoE.Grains.Experiments;
using Orleans.MoE.Grains.Placement;
using Orleans.MoE.Data.Shards;
using Orleans.MoE.Data.Tokenization;
using Orleans.MoE.Torch;
using Orleans.MoE.Torch.Serialization;
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
internal static partial class CommandErrors
{
    public const int BadInput = 2;
    public const int Failure = 1;

    public static int Report(Exception e, TextWriter error)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerExceptions[0];
        if (IsBadInput(e))
        {
            error.WriteLine($"error: {ErrorText.Of(e)}");
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

    /// <summary>A command line that does not parse: every problem in words (no .NET type names), and where the options are listed (exit 2).</summary>
    public static int ReportParseErrors(ParseResult parse, TextWriter error)
    {
        foreach (var e in parse.Errors) error.WriteLine($"error: {Readable(e.Message)}");
        var command = string.Join(' ', parse.CommandResult.Command.Name == parse.RootCommandResult.Command.Name
            ? ["moe"] : new[] { "moe", parse.CommandResult.Command.Name });
        error.WriteLine($"(`{command} --help` lists the options)");
        return BadInput;
    }

    /// <summary>System.CommandLine's parse errors name the expected .NET type; say what to type instead.</summary>
    private static string Readable(string message)
    {
        message = ExpectedType().Replace(message, m => m.Groups[1].Value switch
        {
            "System.Int32" or "System.Int64" => "as a whole number",
            "System.UInt64" or "System.UInt32" => "as a whole number >= 0",
            "System.Double" or "System.Single" => "as a number",
            "System.Boolean" => "as true or false",
            _ => "as one of the allowed values",
        });
        return string.Join(' ', message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
    }

    [GeneratedRegex(@"as expected type '([\w.`\[\], ]+)'")]
    private static partial Regex ExpectedType();

    private static bool IsBadInput(Exception e) =>
        e is IOException or UnauthorizedAccessException or ArgumentException or FormatException or InvalidDataException
            or ConfigException or CorpusFormatException or DebianPackageException or TokenShardFormatException
            or TokenizerFormatException or RunDirectoryException or OutputDirectoryException or SiloMetadataException or ExperimentConflictException
            or DeviceUnavailableException;
}
