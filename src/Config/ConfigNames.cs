using System.Text.Json;

namespace Orleans.MoE.Config;

/// <summary>How names are spelled in configuration files: snake_case, for field names and enum values alike.</summary>
public static class ConfigNames
{
    public static JsonNamingPolicy Policy { get; } = JsonNamingPolicy.SnakeCaseLower;

    /// <summary>An enum value as files spell it (<c>multi_head_latent_moe</c> for MultiHeadLatentMoe).</summary>
    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum => Policy.ConvertName(value.ToString());

    /// <summary>Every value of an enum as files spell them, comma-separated, in declaration order.</summary>
    public static string AllOf(Type enumType) => string.Join(", ", Enum.GetNames(enumType).Select(Policy.ConvertName));
}
