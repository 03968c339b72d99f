using Orleans.MoE.Torch;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Client.Demo;

/// <summary>
/// A fixed-context byte-level language model (Bengio et al. 2003 style): the previous
/// <see cref="Context"/> bytes are embedded, concatenated and passed through a GELU MLP that
/// predicts the next byte. Small enough to train in seconds on two cores.
/// </summary>
internal sealed class TinyByteModel : Module
{
    public const int Vocabulary = 256;

    private readonly Embedding _embedding;
    private readonly Linear _hidden;
    private readonly Linear _output;

    public TinyByteModel(int context, int embeddingDim, int hiddenDim, Generator generator)
    {
        Context = context;
        _embedding = RegisterModule("embedding", new Embedding(Vocabulary, embeddingDim, generator));
        _hidden = RegisterModule("hidden", new Linear(context * embeddingDim, hiddenDim, bias: true, generator));
        _output = RegisterModule("output", new Linear(hiddenDim, Vocabulary, bias: true, generator));
    }

    public int Context { get; }

    /// <summary>Byte ids (B, Context) -> next-byte logits (B, 256).</summary>
    public Tensor Forward(Tensor contexts)
    {
        using var scope = DisposeScope.Begin();
        var x = _embedding.Forward(contexts);           // (B, C, e)
        x = x.Flatten(1);                                // (B, C*e)
        x = _hidden.Forward(x).Gelu();                   // (B, h)
        return scope.MoveToOuter(_output.Forward(x));    // (B, 256)
    }
}
