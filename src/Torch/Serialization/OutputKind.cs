namespace Orleans.MoE.Torch.Serialization;

/// <summary>
/// What kind of directory a command or job writes, as recorded in the marker of an
/// <see cref="OutputDirectory"/>.
/// </summary>
/// <param name="Name">The name stored in the marker, e.g. "prepared-corpus"; a directory is reused only by writers of the same name.</param>
/// <param name="Description">For messages, e.g. "a prepared corpus (moe prepare)".</param>
/// <param name="LegacyEntries">
/// Entries that every directory of this kind written before markers existed holds (e.g. manifest.json
/// and train.tokens): such a directory is recognised as this kind and given its marker. Empty when
/// every directory of the kind has a marker.
/// </param>
/// <param name="ReplacedAsAWhole">
/// Whether the writer replaces the directory (then a caller may force it over a directory of
/// anything else); a writer that adds to its directory (a training run, an experiment) never does.
/// </param>
public sealed record OutputKind(string Name, string Description, IReadOnlyList<string> LegacyEntries, bool ReplacedAsAWhole);
