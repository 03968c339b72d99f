using System.Text.Json;

namespace Orleans.MoE.Model.Config;

/// <summary>How configuration names are spelled in files: snake_case, for field names and enum values alike.</summary>
internal static class ConfigNames
{
    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum =>
        JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}
