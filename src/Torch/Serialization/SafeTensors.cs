using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Orleans.MoE.Torch.Serialization;

/// <summary>One tensor's entry in a safetensors header; offsets are relative to the data section.</summary>
public sealed record SafeTensorsEntry(string Name, ScalarType Dtype, long[] Shape, long Begin, long End);

/// <summary>
/// Reads and writes the Hugging Face safetensors format: an 8-byte little-endian header length, a
/// JSON header (dtype, shape, data_offsets per tensor, and string-to-string "__metadata__"), then
/// the raw little-endian data.
/// <para>
/// Writes never leave a half-written file under the final name: the data goes to a temporary file
/// in the same directory, is flushed to disk, and is then renamed over the target.
/// </para>
/// </summary>
public static class SafeTensors
{
    private const string MetadataKey = "__metadata__";

    /// <summary>Headers beyond this are refused as corrupt rather than allocated.</summary>
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var entries = new List<SafeTensorsEntry>(names.Length);
        long offset = 0;
        foreach (var name in names)
        {
            if (name == MetadataKey) throw new ArgumentException($"'{MetadataKey}' cannot name a tensor", nameof(tensors));
            var t = tensors[name];
            var bytes = t.NumElements * t.Dtype.ElementSize();
            entries.Add(new SafeTensorsEntry(name, t.Dtype, t.Shape, offset, offset + bytes));
            offset += bytes;
        }
        var header = EncodeHeader(entries, metadata);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var entry in entries) stream.Write(tensors[entry.Name].ToBytes());
        });
    }

    /// <summary>The header JSON, padded with spaces to a multiple of 8 bytes as the reference writer does.</summary>
    private static byte[] EncodeHeader(IReadOnlyList<SafeTensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", SafeTensorsDtype.Name(e.Dtype));
                json.WriteStartArray("shape");
                foreach (var d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(e.Begin);
                json.WriteNumberValue(e.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        var padded = (buffer.Length + 7) / 8 * 8;
        while (buffer.Length < padded) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    /// <summary>Reads and validates the header only.</summary>
    public static (IReadOnlyList<SafeTensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata) ReadHeader(string path)
    {
        using var stream = OpenForRead(path);
        var (entries, metadata, _) = ReadHeader(stream, path);
        return (entries, metadata);
    }

    /// <summary>Loads every tensor (on the CPU unless a device is given) and the metadata.</summary>
    public static (Dictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Load(string path, Device? device = null)
    {
        using var stream = OpenForRead(path);
        var (entries, metadata, dataStart) = ReadHeader(stream, path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in entries)
            {
                var length = checked((int)(e.End - e.Begin));
                var rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                try
                {
                    stream.Position = dataStart + e.Begin;
                    stream.ReadExactly(rented, 0, length);
                    tensors[e.Name] = Tensor.FromBytes(rented.AsSpan(0, length), e.Dtype, e.Shape, device).DetachFromScope();
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return (tensors, metadata);
    }

    private static FileStream OpenForRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SafeTensorsFormatException(path, "file not found");
        }
    }

    private static (List<SafeTensorsEntry> Entries, Dictionary<string, string> Metadata, long DataStart) ReadHeader(FileStream stream, string path)
    {
        var fileLength = stream.Length;
        if (fileLength < 8)
            throw new SafeTensorsFormatException(path, $"file is {fileLength} bytes, shorter than the 8-byte header length (truncated or not a safetensors file)");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)Math.Min(MaxHeaderBytes, fileLength - 8))
            throw new SafeTensorsFormatException(path,
                $"header length {headerLength} exceeds the {fileLength - 8} bytes after it (truncated or not a safetensors file)");

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, $"header is not valid JSON ({e.Message})");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(path, "header is not a JSON object");
            var entries = new List<SafeTensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    ReadMetadata(property.Value, metadata, path);
                    continue;
                }
                // JSON allows a repeated key; keeping either entry would silently drop the other tensor.
                if (!names.Add(property.Name))
                    throw new SafeTensorsFormatException(path, $"tensor '{property.Name}' appears more than once in the header");
                entries.Add(ReadEntry(property, path));
            }
            CheckLayout(entries, dataLength, path);
            return (entries, metadata, dataStart);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, $"'{MetadataKey}' must be an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new SafeTensorsFormatException(path, $"metadata '{item.Name}' must be a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafeTensorsEntry ReadEntry(JsonProperty property, string path)
    {
        var name = property.Name;
        var v = property.Value;
        if (v.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': entry is not an object");
        if (!v.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': missing 'dtype'");
        var dtypeName = dtypeElement.GetString()!;
        if (!SafeTensorsDtype.TryParse(dtypeName, out var dtype))
            throw new SafeTensorsFormatException(path, $"tensor '{name}': dtype '{dtypeName}' is not supported (supported: {SafeTensorsDtype.Supported})");
        var shape = ReadIntegers(v, "shape", name, path);
        if (shape.Any(d => d < 0))
            throw new SafeTensorsFormatException(path, $"tensor '{name}': negative dimension in shape");
        var offsets = ReadIntegers(v, "data_offsets", name, path);
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
            throw new SafeTensorsFormatException(path, $"tensor '{name}': 'data_offsets' must be [begin, end] with 0 <= begin <= end");
        long expected;
        try
        {
            long numel = 1;
            foreach (var d in shape) numel = checked(numel * d);
            expected = checked(numel * dtype.ElementSize());
        }
        catch (OverflowException)
        {
            throw new SafeTensorsFormatException(path,
                $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtypeName} needs more than {long.MaxValue} bytes (corrupt shape)");
        }
        if (offsets[1] - offsets[0] != expected)
            throw new SafeTensorsFormatException(path,
                $"tensor '{name}': data_offsets span {offsets[1] - offsets[0]} bytes but {dtypeName} [{string.Join(", ", shape)}] needs {expected}");
        return new SafeTensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(JsonElement entry, string field, string name, string path)
    {
        if (!entry.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': missing '{field}' array");
        var result = new long[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out result[i++]))
                throw new SafeTensorsFormatException(path, $"tensor '{name}': '{field}' must hold integers");
        }
        return result;
    }

    /// <summary>The tensors must tile the data section exactly: no gaps, no overlaps, nothing past the end.</summary>
    private static void CheckLayout(List<SafeTensorsEntry> entries, long dataLength, string path)
    {
        long position = 0;
        string? previous = null;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            var after = previous is null ? "the start of the data" : $"tensor '{previous}', which ends at byte {position}";
            if (e.Begin < position)
                throw new SafeTensorsFormatException(path, $"tensor '{e.Name}' starts at byte {e.Begin} of the data and overlaps {after}");
            if (e.Begin > position)
                throw new SafeTensorsFormatException(path, $"tensor '{e.Name}' starts at byte {e.Begin} of the data, leaving a gap of {e.Begin - position} bytes after {after}");
            position = e.End;
            previous = e.Name;
        }
        if (position > dataLength)
            throw new SafeTensorsFormatException(path, $"tensor data needs {position} bytes but the file holds {dataLength} after the header (truncated)");
        if (position < dataLength)
            throw new SafeTensorsFormatException(path, $"{dataLength - position} bytes after the last tensor belong to none (corrupt)");
    }
}
