using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Orleans.MoE.Grains;

/// <summary>
/// Grain state writes that outlast a storage outage (Redis restarting, unreachable for a while):
/// a failed write is tried again with growing pauses for up to <see cref="GiveUpAfter"/>, while the
/// jobs themselves keep running in their workers. Nothing is declared done before its write
/// succeeded. A write refused as inconsistent (another activation wrote) is not retried.
/// </summary>
internal static partial class StateWrites
{
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(10);

    public static async Task WriteRetryingAsync<T>(this IPersistentState<T> state, ILogger logger, string owner)
    {
        var started = DateTime.UtcNow;
        var pause = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await state.WriteStateAsync();
                if (attempt > 1) LogWritten(logger, owner, attempt);
                return;
            }
            catch (Exception e) when (e is not InconsistentStateException && DateTime.UtcNow - started < GiveUpAfter)
            {
                LogRetrying(logger, owner, attempt, pause.TotalSeconds, e.Message);
                await Task.Delay(pause);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write the state of {Owner} (try {Attempt}): {Error}; trying again in {Seconds} s")]
    private static partial void LogRetrying(ILogger logger, string owner, int attempt, double seconds, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wrote the state of {Owner} at try {Attempt}")]
    private static partial void LogWritten(ILogger logger, string owner, int attempt);
}
