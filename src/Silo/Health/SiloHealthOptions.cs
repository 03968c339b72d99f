namespace Orleans.MoE.Silo.Health;

/// <summary>
/// The silo's HTTP health endpoint for an orchestrator's probes (section <c>MoE:Health</c>,
/// <c>MoE__Health__Port=8080</c>). Off unless a port is given: local and test silos serve nothing.
/// </summary>
public sealed class SiloHealthOptions
{
    public const string Section = "MoE:Health";

    /// <summary>The TCP port of <c>/healthz/startup</c>, <c>/healthz/live</c> and <c>/healthz/ready</c>; 0 = no endpoint.</summary>
    public int Port { get; set; }

    /// <summary>The address to listen on: <c>*</c> (every interface, for a pod) or one address such as <c>127.0.0.1</c>.</summary>
    public string ListenAddress { get; set; } = "*";
}
