namespace Orleans.MoE.Silo.Hosting;

/// <summary>
/// A silo's own settings (section <c>MoE:Silo</c> of appsettings.json, <c>MoE__Silo__*</c>
/// variables, or the flags of <c>moe silo</c>). Its device pools are Orleans silo metadata
/// (see <see cref="Orleans.MoE.Grains.Placement.DevicePoolMetadata"/>).
/// </summary>
public sealed class MoeSiloOptions
{
    public const string Section = "MoE:Silo";

    /// <summary>The command that starts a worker (<c>moe worker --job FILE</c> is appended); empty = this program.</summary>
    public string WorkerCommand { get; set; } = "";

    /// <summary>How long a stopping worker may take to checkpoint before it is killed.</summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A worker that reports no progress for this long is killed and counted as failed; zero waits forever.</summary>
    public TimeSpan JobStallTimeout { get; set; } = TimeSpan.Zero;
}
