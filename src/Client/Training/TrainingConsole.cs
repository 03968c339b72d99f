using System.Diagnostics;
using System.Globalization;
using Orleans.MoE.Training.Runs;
using Spectre.Console;

namespace Orleans.MoE.Client.Training;

/// <summary>
/// Shows a training run: a progress bar with loss, tokens/s and the time left on a terminal, or one
/// plain line every few steps when the output is redirected; evaluations and checkpoints as lines.
/// </summary>
internal sealed class TrainingConsole : IProgress<TrainingEvent>
{
    private readonly long _totalSteps;
    private readonly long _plainEvery;
    private readonly Stopwatch _clock = new();
    private ProgressTask? _task;
    private long _firstStep;
    private double _tokensPerSecond;
    private volatile bool _stopping;

    public TrainingConsole(long totalSteps)
    {
        _totalSteps = totalSteps;
        _plainEvery = Math.Max(1, totalSteps / 50);
    }

    /// <summary>Runs the trainer to its end or to cancellation, showing its progress.</summary>
    public TrainingResult Run(Trainer trainer, CancellationToken cancellation)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive) return trainer.Run(this, cancellation);

        TrainingResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                _task = context.AddTask("starting", maxValue: trainer.Training.Steps);
                _task.Value = trainer.Step;
                result = trainer.Run(this, cancellation);
                _task.StopTask();
            });
        return result!;
    }

    /// <summary>Shown at once when Ctrl-C is pressed: the step in progress still completes before the checkpoint.</summary>
    public void Stopping()
    {
        _stopping = true;
        if (_task is { } task) task.Description = Markup.Escape(task.Description + " · stopping after this step");
        else System.Console.Error.WriteLine("stopping after the current step to write a checkpoint (press Ctrl-C again to quit without one)");
    }

    public void Report(TrainingEvent value)
    {
        switch (value)
        {
            case CheckpointSkipped skipped:
                if (_task is null) System.Console.Error.WriteLine(skipped.Warning);
                else AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(skipped.Warning)}[/]");
                break;
            case RunStarted started:
                _firstStep = started.Step;
                _clock.Start();
                if (started.Resumed) Line($"resumed from {started.ResumedFrom} at step {started.Step} ({started.TokensSeen:N0} tokens seen)");
                break;
            case StepCompleted step:
                _tokensPerSecond = _tokensPerSecond == 0 ? step.TokensPerSecond : 0.9 * _tokensPerSecond + 0.1 * step.TokensPerSecond;
                var summary = Summary(step);
                if (_task is { } task)
                {
                    task.Value = step.Step;
                    task.Description = Markup.Escape(summary + (_stopping ? " · stopping after this step" : ""));
                }
                else if (step.Step % _plainEvery == 0 || step.Step == _totalSteps)
                {
                    System.Console.WriteLine($"{summary}  lr {step.LearningRate:0.00e+0}  grad norm {step.GradNorm:F3}  ETA {Eta(step.Step)}");
                }
                break;
            case EvaluationCompleted evaluation:
                Line($"step {evaluation.Step}: validation loss {evaluation.Loss:F4}, perplexity {evaluation.Perplexity:F2} " +
                     $"({evaluation.Tokens:N0} tokens, {evaluation.Seconds:F1} s)");
                break;
            case CheckpointSaved checkpoint:
                Line($"step {checkpoint.Step}: checkpoint {checkpoint.Directory}");
                break;
        }
    }

    /// <summary>Mean tokens per second since the run (or the resumed part of it) started.</summary>
    public double AverageTokensPerSecond(long tokensPerStep, long step) =>
        _clock.Elapsed.TotalSeconds > 0 ? (step - _firstStep) * tokensPerStep / _clock.Elapsed.TotalSeconds : 0;

    public double Seconds => _clock.Elapsed.TotalSeconds;

    private string Summary(StepCompleted step)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"step {step.Step}/{_totalSteps}  loss {step.Loss:F3}  {_tokensPerSecond:N0} tok/s");
        if (step.Routing.Count > 0)
            text += string.Create(CultureInfo.InvariantCulture, $"  max/mean load {step.Routing.Max(r => r.MaxOverMean):F2}");
        return text;
    }

    private string Eta(long step)
    {
        var done = step - _firstStep;
        if (done <= 0) return "?";
        var left = TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds / done * (_totalSteps - step));
        return left.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);
    }

    private void Line(string text)
    {
        if (_task is null) System.Console.WriteLine(text);
        else AnsiConsole.MarkupLine(Markup.Escape(text));
    }
}
