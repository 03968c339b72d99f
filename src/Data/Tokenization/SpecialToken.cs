namespace Orleans.MoE.Data.Tokenization;

/// <summary>
/// A token that stands for itself rather than for bytes found by merging, such as
/// <c>&lt;|endoftext|&gt;</c>. It decodes to its content's UTF-8 bytes but is never produced by
/// encoding ordinary text: callers insert it by id.
/// </summary>
public sealed record SpecialToken(int Id, string Content);
