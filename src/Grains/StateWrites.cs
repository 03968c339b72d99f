using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Orleans.MoE.Grains;

/// <summary>
/// Grain state writes that outlast a storage outage (Redis restarting, unreachable for a while):
/// a failed write is tried again with growing pauses for up to <see cref="GiveUpAfter"/>, while the
/// jobs themselves keep running in their workers. Nothing is declared done before its write
/// succeeded. A write refused as inconsistent (another activation wrote) is not retried, unless the
/// record is gone altogether: storage that lost its data (Redis emptied, or restarted without its
/// data files) refuses every ETag, and this activation, the only one, writes its state again from
/// memory as a new record.
/// </summary>
internal static partial class StateWrites
{
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(10);

    /// <summary>Writes the state; returns true when its record had vanished from storage and was written again as a new one.</summary>
    public static async Task<bool> WriteRetryingAsync<T>(this IPersistentState<T> state, ILogger logger, string owner)
    {
        var started = DateTime.UtcNow;
        var pause = TimeSpan.FromMilliseconds(250);
        var rewritten = false;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await state.WriteStateAsync();
                if (attempt > 1) LogWritten(logger, owner, attempt);
                return rewritten;
            }
            catch (InconsistentStateException) when (!rewritten && state.Etag is not null)
            {
                bool vanished;
                try
                {
                    vanished = await RecordVanishedAsync(state);
                }
                catch (Exception e) when (e is not InconsistentStateException && DateTime.UtcNow - started < GiveUpAfter)
                {
                    LogRetrying(logger, owner, attempt, pause.TotalSeconds, e.Message);   // the storage went away again: ask again later
                    await Task.Delay(pause);
                    continue;
                }
                if (!vanished) throw;
                rewritten = true;
                LogRewriting(logger, owner);
            }
            catch (Exception e) when (e is not InconsistentStateException && DateTime.UtcNow - started < GiveUpAfter)
            {
                LogRetrying(logger, owner, attempt, pause.TotalSeconds, e.Message);
                await Task.Delay(pause);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    /// <summary>
    /// Reads the stored record: when there is none, the state in memory is put back (with no ETag, so the
    /// next write creates the record); when there is one, another activation wrote it, and its state
    /// stays read, so that this activation cannot write over it.
    /// </summary>
    private static async Task<bool> RecordVanishedAsync<T>(IPersistentState<T> state)
    {
        var mine = state.State;
        await state.ReadStateAsync();
        if (state.RecordExists) return false;
        state.State = mine;
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write the state of {Owner} (try {Attempt}): {Error}; trying again in {Seconds} s")]
    private static partial void LogRetrying(ILogger logger, string owner, int attempt, double seconds, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wrote the state of {Owner} at try {Attempt}")]
    private static partial void LogWritten(ILogger logger, string owner, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored state of {Owner} has vanished (its storage lost its data: Redis emptied or restarted without its data files); writing it again from this activation's memory")]
    private static partial void LogRewriting(ILogger logger, string owner);
}
