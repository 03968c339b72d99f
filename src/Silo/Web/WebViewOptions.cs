namespace Orleans.MoE.Silo.Web;

/// <summary>
/// The silo's web view (section <c>MoE:Web</c>, <c>MoE__Web__*</c> variables). Off unless
/// <see cref="PortKey"/> is set: a silo without it opens no HTTP port.
/// </summary>
public sealed class WebViewOptions
{
    public const string Section = "MoE:Web";

    /// <summary>The key whose presence turns the web view on; 0 picks a free port.</summary>
    public const string PortKey = $"{Section}:{nameof(Port)}";

    public int Port { get; set; }

    /// <summary>The address it listens on; loopback unless a deployment exposes it on purpose.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";
}
