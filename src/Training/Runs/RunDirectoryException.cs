namespace Orleans.MoE.Training.Runs;

/// <summary>
/// A run directory whose state does not allow what was asked: it already holds another run, has no
/// checkpoint to resume from, or was started with other settings or data. The message names the
/// directory (or file) and what to do instead.
/// </summary>
public sealed class RunDirectoryException(string message, Exception? inner = null) : InvalidOperationException(message, inner);
