using System.Text;

namespace Orleans.MoE.Cluster.Tests;

/// <summary>
/// Just enough of the protobuf wire format to check an OTLP request: a message is a list of
/// (field number, wire type, value) where a length-delimited value is bytes (a string or a nested
/// message). OpenTelemetry's .proto files are not a package here; the field numbers used are
/// those of opentelemetry-proto's trace/metrics/common/resource messages.
/// </summary>
internal sealed record ProtobufField(int Number, int WireType, ulong Scalar, byte[] Bytes)
{
    public string Text => Encoding.UTF8.GetString(Bytes);

    public IReadOnlyList<ProtobufField> Message => ProtobufReader.Read(Bytes);

    public string Hex => Convert.ToHexString(Bytes).ToLowerInvariant();
}

internal static class ProtobufReader
{
    /// <summary>The fields of one message; throws on bytes that are not a well-formed message.</summary>
    public static IReadOnlyList<ProtobufField> Read(byte[] bytes)
    {
        var fields = new List<ProtobufField>();
        var at = 0;
        while (at < bytes.Length)
        {
            var key = Varint(bytes, ref at);
            var (number, wire) = ((int)(key >> 3), (int)(key & 7));
            if (number <= 0) throw new InvalidDataException($"field number {number} at byte {at}");
            switch (wire)
            {
                case 0:
                    fields.Add(new(number, wire, Varint(bytes, ref at), []));
                    break;
                case 1:
                    Need(bytes, at, 8);
                    fields.Add(new(number, wire, BitConverter.ToUInt64(bytes, at), bytes[at..(at + 8)]));
                    at += 8;
                    break;
                case 2:
                    var length = (int)Varint(bytes, ref at);
                    Need(bytes, at, length);
                    fields.Add(new(number, wire, 0, bytes[at..(at + length)]));
                    at += length;
                    break;
                case 5:
                    Need(bytes, at, 4);
                    fields.Add(new(number, wire, BitConverter.ToUInt32(bytes, at), bytes[at..(at + 4)]));
                    at += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {wire} at byte {at}");
            }
        }
        return fields;
    }

    public static IEnumerable<ProtobufField> All(this IReadOnlyList<ProtobufField> message, int number) => message.Where(f => f.Number == number);

    public static ProtobufField One(this IReadOnlyList<ProtobufField> message, int number) => message.Single(f => f.Number == number);

    private static ulong Varint(byte[] bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            Need(bytes, at, 1);
            var b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new InvalidDataException("varint longer than 10 bytes");
    }

    private static void Need(byte[] bytes, int at, int count)
    {
        if (count < 0 || at + count > bytes.Length) throw new InvalidDataException($"message truncated at byte {at} ({count} more bytes expected)");
    }
}
