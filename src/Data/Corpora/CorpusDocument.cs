namespace Orleans.MoE.Data.Corpora;

/// <summary>
/// One document of a corpus: its raw bytes (UTF-8 as a rule, kept byte-exact either way), where it
/// came from (<see cref="Id"/>: source and position), its domain label and the licence that covers it
/// (a file path, such as a Debian package's copyright file, or a short description).
/// </summary>
public sealed record CorpusDocument(string Id, string Domain, string Licence, byte[] Text);
