using Orleans.MoE.Torch;

namespace Orleans.MoE.Model;

/// <summary>
/// What a forward pass gives the trainer. Logits (B, T, vocab). With targets: LanguageModelLoss, the
/// mean token cross-entropy; AuxLoss, the weighted sum of the routed layers' auxiliary losses (null
/// when none is enabled); and Loss = LanguageModelLoss + AuxLoss, the scalar to backpropagate.
/// Disposing the output disposes its tensors.
/// </summary>
public sealed record ModelOutput(Tensor Logits, Tensor? Loss, Tensor? LanguageModelLoss, Tensor? AuxLoss) : IDisposable
{
    public void Dispose()
    {
        Logits.Dispose();
        Loss?.Dispose();
        LanguageModelLoss?.Dispose();
        AuxLoss?.Dispose();
    }
}
