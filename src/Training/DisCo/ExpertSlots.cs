using Orleans.MoE.Model.Config;

namespace Orleans.MoE.Training.DisCo;

/// <summary>How one tensor of an MoE's state dict relates to the experts.</summary>
public enum SlotKind
{
    /// <summary>Part of the shared backbone (embedding, attention, norms, latent projections, dense layers).</summary>
    Shared,

    /// <summary>Stacked expert weights, expert on dimension 0: (N_e, ...).</summary>
    Expert,

    /// <summary>The router, one row per expert: (N_e, d).</summary>
    Router,

    /// <summary>The aux-free balancing bias, (1, N_e).</summary>
    BalancingBias,
}

/// <summary>
/// Classifies the state-dict names of a Transformer (see src/Model/Transformer.cs for the naming)
/// by their role in MoE-DisCo: what is shared by every submodel, and what belongs to one expert.
/// </summary>
public static class ExpertSlots
{
    public static SlotKind Of(ModelConfig config, string name)
    {
        var layer = RoutedLayerOf(config, name);
        if (layer is null) return SlotKind.Shared;
        var local = name[$"layers.{layer}.ffn.".Length..];
        if (local.StartsWith("experts.", StringComparison.Ordinal)) return SlotKind.Expert;
        return local switch
        {
            "router" => SlotKind.Router,
            "balancing_bias" => SlotKind.BalancingBias,
            _ => SlotKind.Shared,
        };
    }

    /// <summary>The routed layer whose feed-forward block the name belongs to, if any.</summary>
    private static int? RoutedLayerOf(ModelConfig config, string name)
    {
        if (!name.StartsWith("layers.", StringComparison.Ordinal)) return null;
        var rest = name["layers.".Length..];
        var dot = rest.IndexOf('.');
        if (dot <= 0 || !int.TryParse(rest[..dot], out var layer)) return null;
        if (!rest[(dot + 1)..].StartsWith("ffn.", StringComparison.Ordinal)) return null;
        return layer < config.NumLayers && config.FfnKindOf(layer) != FfnKind.Mlp ? layer : null;
    }
}
