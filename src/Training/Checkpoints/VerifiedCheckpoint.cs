namespace Orleans.MoE.Training.Checkpoints;

/// <summary>The newest checkpoint of a store that verifies, and the newer ones passed over because they did not.</summary>
public sealed record VerifiedCheckpoint(long Step, CheckpointManifest Manifest, IReadOnlyList<SkippedCheckpoint> Skipped);

/// <summary>A checkpoint that failed verification: its step, directory, and the problem (naming the file).</summary>
public sealed record SkippedCheckpoint(long Step, string Directory, string Problem);
