namespace Orleans.MoE.Data.Corpora;

/// <summary>A Debian package that the built-in corpus needs is unknown, missing, or failed to install.</summary>
public sealed class DebianPackageException(string message) : Exception(message);
