using Orleans.MoE.Torch.Native;
using Orleans.MoE.Torch.NN;

namespace Orleans.MoE.Torch.Optim;

public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients by min(1, maxNorm / (norm + 1e-6)), where norm is the 2-norm of every
    /// gradient taken together (torch.nn.utils.clip_grad_norm_); returns the norm before clipping.
    /// </summary>
    public static unsafe double ClipGradNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        var list = parameters.ToArray();
        var handles = list.Select(p => p.Handle).ToArray();
        double total;
        fixed (IntPtr* h = handles) TorchException.Check(NativeMethods.moe_clip_grad_norm(h, handles.Length, maxNorm, &total));
        GC.KeepAlive(list);
        return total;
    }
}
