using System.CommandLine;
using System.Runtime.InteropServices;
using Orleans.MoE.Training.DisCo;
using Orleans.MoE.Training.Runs;

namespace Orleans.MoE.Client.DisCo;

/// <summary>`moe disco`: runs an MoE-DisCo experiment and its baseline end to end, resuming where it stopped.</summary>
internal static class DisCoCommand
{
    public const int Interrupted = 130;

    public static Command Create()
    {
        var experiment = new Option<FileInfo>("--experiment") { Description = "The experiment file (see experiments/disco-demo.json).", Required = true };
        var directory = new Option<DirectoryInfo>("--dir") { Description = "The experiment directory; running again resumes it.", Required = true };
        var every = new Option<int>("--print-every") { Description = "Print a training line every this many steps.", DefaultValueFactory = _ => 25 };

        var command = new Command("disco", "Run an MoE-DisCo experiment and its baseline: cluster, train submodels, integrate, fine-tune, report.");
        foreach (var option in new Option[] { experiment, directory, every }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var file = parse.GetValue(experiment)!.FullName;
            if (!File.Exists(file)) throw new FileNotFoundException($"{file}: experiment file not found");
            return Run(File.ReadAllText(file), file, parse.GetValue(directory)!.FullName, parse.GetValue(every));
        });
        return command;
    }

    /// <summary>Validates the experiment completely, runs it with Ctrl-C stopping at a checkpoint, and prints the summary.</summary>
    public static int Run(string experimentText, string source, string directory, int printEvery)
    {
        var config = DisCoExperimentLoader.Parse(experimentText, source);   // every problem, before any work starts
        using var cancellation = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            if (cancellation.IsCancellationRequested) return;   // a second signal terminates at once
            context.Cancel = true;
            cancellation.Cancel();
            Console.WriteLine("stopping after the current step; a checkpoint is written...");
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        Console.WriteLine($"MoE-DisCo experiment '{config.Name}' ({config.Experts} experts) in {directory}");
        try
        {
            DisCoRunner.Run(config, experimentText, directory, Console.Out, new StepPrinter(printEvery), cancellation.Token);
            Console.WriteLine();
            Console.WriteLine(File.ReadAllText(new DisCoLayout(directory).Summary));
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("interrupted; run the same command again to resume where it stopped");
            return Interrupted;
        }
    }

    /// <summary>One line every N training steps and one per evaluation.</summary>
    private sealed class StepPrinter(int every) : IProgress<TrainingEvent>
    {
        private long _total;

        public void Report(TrainingEvent value)
        {
            switch (value)
            {
                case CheckpointSkipped skipped:
                    Console.Error.WriteLine(Training.TrainingConsole.CheckpointSkippedWarning(skipped));
                    break;
                case RunStarted s:
                    _total = s.TotalSteps;
                    if (s.Resumed) Console.WriteLine($"  resumed at step {s.Step} from {s.ResumedFrom}");
                    break;
                case StepCompleted s when s.Step % Math.Max(1, every) == 0 || s.Step == _total:
                    var load = s.Routing.Count == 0 ? "" : $"  max/mean load {s.Routing.Average(r => r.MaxOverMean):F2}";
                    Console.WriteLine($"  step {s.Step,5}/{_total}  loss {s.Loss:F4}  {s.TokensPerSecond,7:N0} tok/s{load}");
                    break;
                case EvaluationCompleted e:
                    Console.WriteLine($"  held-out after step {e.Step}: loss {e.Loss:F4}, perplexity {e.Perplexity:F2}");
                    break;
            }
        }
    }
}
