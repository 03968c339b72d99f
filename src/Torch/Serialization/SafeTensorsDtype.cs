namespace Orleans.MoE.Torch.Serialization;

/// <summary>The dtype names of the safetensors header.</summary>
internal static class SafeTensorsDtype
{
    public static string Name(ScalarType type) => type switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.UInt8 => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no safetensors dtype"),
    };

    public static bool TryParse(string name, out ScalarType type)
    {
        (var ok, type) = name switch
        {
            "F64" => (true, ScalarType.Float64),
            "F32" => (true, ScalarType.Float32),
            "F16" => (true, ScalarType.Float16),
            "BF16" => (true, ScalarType.BFloat16),
            "I64" => (true, ScalarType.Int64),
            "I32" => (true, ScalarType.Int32),
            "I16" => (true, ScalarType.Int16),
            "I8" => (true, ScalarType.Int8),
            "U8" => (true, ScalarType.UInt8),
            "BOOL" => (true, ScalarType.Bool),
            _ => (false, ScalarType.Float32),
        };
        return ok;
    }

    public const string Supported = "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL";
}
