using System.CommandLine;
using System.Runtime.InteropServices;
using Orleans.MoE.Model.Accounting;
using Orleans.MoE.Model.Config;
using Orleans.MoE.Training.Config;
using Orleans.MoE.Training.Runs;
using Orleans.MoE.Client.Parallel;
using Orleans.MoE.Training.Parallel;
using Orleans.MoE.Torch;
using Orleans.MoE.Config;

namespace Orleans.MoE.Client.Training;

/// <summary>
/// `moe train`: trains a model on a prepared corpus or token files, with a progress bar, metrics in
/// the run directory, checkpoints, and Ctrl-C (or SIGTERM) writing a checkpoint before exiting.
/// With --world-size/--rank/--rendezvous it is one rank of a multi-process run; with --local-ranks P
/// it starts P ranks on this machine.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo?>("--model") { Description = "Model configuration (JSON or YAML); with --resume, taken from the checkpoint when absent." };
        var training = new Option<FileInfo?>("--training") { Description = "Training configuration (JSON or YAML); with --resume, taken from the checkpoint when absent." };
        var data = new Option<string[]>("--data")
        {
            Description = "A prepared corpus directory (from `moe prepare`) or token shard files.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var validation = new Option<string[]>("--validation")
        {
            Description = "Validation token shard files (default: the corpus directory's validation split).",
            AllowMultipleArgumentsPerToken = true,
        };
        var runDirectory = new Option<DirectoryInfo>("--run-dir") { Description = "Directory for metrics.jsonl and checkpoints/.", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --run-dir from its newest checkpoint (saved at any number of ranks)." };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads of this process (overrides training.threads)." };
        var device = new Option<string>("--device")
        {
            Description = "Where to train: cpu, cuda (the first GPU) or cuda:N; a GPU needs a native library built against a CUDA libtorch.",
            DefaultValueFactory = _ => "cpu",
        };
        var parallel = new RankOptions();

        var command = new Command("train", "Train a transformer language model (dense, MoE, LatentMoE or Multi-Head LatentMoE).");
        foreach (var option in new Option[] { model, training, data, validation, runDirectory, resume, threads, device }.Concat(parallel.All)) command.Options.Add(option);
        command.SetAction(parse =>
        {
            if (parse.GetValue(parallel.LocalRanks) is > 0 and var ranks)
                return LocalRanksLauncher.Run(ranks, ArgumentsWithout(parse.Tokens.Select(t => t.Value).ToArray(), "--local-ranks"));
            return Run(new Arguments(
                parse.GetValue(model)?.FullName,
                parse.GetValue(training)?.FullName,
                parse.GetValue(data) ?? [],
                parse.GetValue(validation) is { Length: > 0 } v ? v : null,
                parse.GetValue(runDirectory)!.FullName,
                parse.GetValue(resume),
                parse.GetValue(threads),
                Device.Parse(parse.GetValue(device)!),
                RankOptions.Resolve(parse.GetValue(parallel.Mode)!, parse.GetValue(parallel.WorldSize), parse.GetValue(parallel.Rank),
                    parse.GetValue(parallel.Rendezvous), parse.GetValue(parallel.TimeoutSeconds))));
        });
        return command;
    }

    private sealed record Arguments(string? Model, string? Training, string[] Data, string[]? Validation, string RunDirectory, bool Resume,
        int? Threads, Device Device, ParallelRank? Rank);

    /// <summary>The command line as parsed ("train" first), without one option and its value (for the ranks the launcher starts).</summary>
    private static List<string> ArgumentsWithout(string[] tokens, string option)
    {
        var result = new List<string>();
        for (var i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] == option) { i++; continue; }
            if (tokens[i].StartsWith(option + "=", StringComparison.Ordinal)) continue;
            result.Add(tokens[i]);
        }
        return result;
    }

    private static int Run(Arguments a)
    {
        ParallelContext? parallel = null;
        try
        {
            a.Device.EnsureAvailable();   // before anything is read or written
            var (model, training) = LoadConfigs(a);
            if (a.Threads is { } t) training = training with { Threads = t };
            var quiet = a.Rank is { Rank: > 0 };   // ranks other than 0 report errors only
            if (!quiet) Console.WriteLine(ModelAccounting.Of(model, training.ContextLength).Describe());
            using var data = TrainingData.Open(a.Data, a.Validation, training.ContextLength, training.Seed);
            if (!quiet)
            {
                Console.WriteLine($"data: {data.Description}");
                Console.WriteLine($"batch: {training.BatchSize} x {training.ContextLength} tokens ({training.MicroBatches} micro-batches), {training.Steps} steps; run directory {a.RunDirectory}");
                Console.WriteLine($"device: {a.Device} ({TorchRuntime.Describe()}), precision {ConfigNames.Of(training.Precision)}");
            }
            if (a.Rank is { } rank)
            {
                parallel = rank.Join(model, a.Device);
                if (!quiet) Console.WriteLine($"{rank.WorldSize} ranks, {parallel.Mode.ToString().ToLowerInvariant()} parallel, rendezvous {rank.Rendezvous}");
            }

            using var trainer = Trainer.Create(new TrainingJob
            {
                Model = model, Training = training, Data = data, RunDirectory = a.RunDirectory, Resume = a.Resume, Parallel = parallel,
                Device = a.Device,
            });
            using var cancellation = new CancellationTokenSource();
            var display = new TrainingConsole(training.Steps);
            void OnSignal(PosixSignalContext context)
            {
                if (cancellation.IsCancellationRequested) return;   // a second signal terminates at once
                context.Cancel = true;
                cancellation.Cancel();
                display.Stopping();
            }
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

            if (quiet)
            {
                var rankResult = trainer.Run(null, cancellation.Token);
                return rankResult.Outcome == TrainingOutcome.Cancelled ? 130 : 0;
            }
            var result = display.Run(trainer, cancellation.Token);
            return Finish(a, trainer, result, display);
        }
        finally
        {
            if (parallel is not null)
            {
                parallel.Group.Dispose();
                parallel.Dispose();
            }
        }
    }

    private static (ModelConfig Model, TrainingConfig Training) LoadConfigs(Arguments a)
    {
        if (a.Model is null && a.Training is null && a.Resume) return Trainer.ConfigsOfLatestCheckpoint(a.RunDirectory);
        if (a.Model is null || a.Training is null)
            throw new ArgumentException(a.Resume
                ? "give both --model and --training, or neither (the checkpoint's own configurations are used then)"
                : "--model and --training are required to start a run");
        var model = ModelConfigLoader.LoadFile(a.Model);
        return (model, TrainingConfigLoader.LoadFile(a.Training, model));
    }

    private static int Finish(Arguments a, Trainer trainer, TrainingResult result, TrainingConsole console)
    {
        var tokensPerSecond = console.AverageTokensPerSecond(trainer.Training.TokensPerStep, result.Step);
        Console.WriteLine($"{result.Step} steps, {result.TokensSeen:N0} tokens seen; {tokensPerSecond:N0} tokens/s over the {console.Seconds:F1} s of this session (evaluations and checkpoints included)");
        if (result.LastEvaluation is { } e) Console.WriteLine($"validation perplexity {e.Perplexity:F2} at step {e.Step}");
        Console.WriteLine($"checkpoint: {result.CheckpointDirectory}");
        Console.WriteLine($"metrics: {Path.Combine(a.RunDirectory, MetricsLog.FileName)}");
        if (result.Outcome != TrainingOutcome.Cancelled) return 0;
        var validation = a.Validation is null ? "" : $" --validation {string.Join(' ', a.Validation.Select(Quote))}";
        Console.WriteLine($"stopped at step {result.Step} of {trainer.Training.Steps}. Resume with:");
        Console.WriteLine($"  moe train --run-dir {Quote(a.RunDirectory)} --data {string.Join(' ', a.Data.Select(Quote))}{validation} --resume");
        return 130;   // the shell's code for "ended by Ctrl-C"
    }

    private static string Quote(string path) => path.Contains(' ') ? $"\"{path}\"" : path;
}
