namespace Orleans.MoE.Model.Config;

/// <summary>One thing wrong with a model file: the field's path (e.g. <c>layers.ffn.moe.top_k</c>) and what to do about it.</summary>
public sealed record ConfigProblem(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}
