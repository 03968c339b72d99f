using System.Buffers.Binary;
using System.Text;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Torch.Tests.Support;

namespace Orleans.MoE.Torch.Tests;

/// <summary>What our writer produces, byte for byte, and what our reader makes of it and of files others wrote.</summary>
public class SafeTensorsRoundTripTests
{
    [Fact]
    public void EveryDtypeShapeAndTheMetadataSurviveSaveAndLoad()
    {
        using var dir = new TemporaryDirectory();
        using var scope = DisposeScope.Begin();
        var g = new Generator(7);
        var normal = Tensor.Randn([3, 5], g, ScalarType.Float64);
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = normal,
            ["f32"] = normal.To(ScalarType.Float32),
            ["f16"] = normal.To(ScalarType.Float16),
            ["bf16"] = normal.To(ScalarType.BFloat16),
            ["i64"] = Tensor.RandInt(long.MinValue / 2, long.MaxValue / 2, [4, 2], g),
            ["i32"] = Tensor.RandInt(int.MinValue, int.MaxValue, [7], g, ScalarType.Int32),
            ["i16"] = Tensor.RandInt(short.MinValue, short.MaxValue, [2, 2, 2], g, ScalarType.Int16),
            ["i8"] = Tensor.RandInt(sbyte.MinValue, sbyte.MaxValue, [9], g, ScalarType.Int8),
            ["u8"] = Tensor.RandInt(0, 256, [3, 1], g, ScalarType.UInt8),
            ["bool"] = normal.Gt(0.0),
            ["scalar"] = Tensor.Scalar(-3.25),
            ["empty"] = Tensor.Zeros([0, 3]),
            // Not contiguous: the file must hold the logical (row-major) order, not the storage order.
            ["transposed"] = normal.T,
        };
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["note"] = "quotes \" and backslashes \\ and ünïcödé + <html>",
            ["empty"] = "",
        };
        var path = dir.File("all.safetensors");

        SafeTensors.Save(path, tensors, metadata);
        var (loaded, loadedMetadata) = SafeTensors.Load(path);

        try
        {
            Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
            foreach (var (name, original) in tensors)
            {
                var back = loaded[name];
                Assert.Equal(original.Dtype, back.Dtype);
                Assert.Equal(original.Shape, back.Shape);
                Assert.Equal(original.ToBytes(), back.ToBytes());
                Assert.True(original.Equal(back), $"{name} differs after the round trip");
            }
            Assert.Equal(metadata.OrderBy(kv => kv.Key), loadedMetadata.OrderBy(kv => kv.Key));
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    [Fact]
    public void TheWriterLaysOutLengthJsonPaddingAndDataExactly()
    {
        using var dir = new TemporaryDirectory();
        using var scope = DisposeScope.Begin();
        var path = dir.File("tiny.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            // Given out of order: the writer sorts names ordinally, so "a" comes first in header and data.
            ["b"] = Tensor.FromArray(new[] { 1.0f, -2.0f }),
            ["a"] = Tensor.Scalar(7L),
        };

        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["k"] = "v" });

        const string json =
            """{"__metadata__":{"k":"v"},"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""";
        var header = Encoding.ASCII.GetBytes(json);
        var padded = (header.Length + 7) / 8 * 8;
        Assert.NotEqual(header.Length, padded); // this JSON needs padding, so the padding rule is exercised
        var expected = new List<byte>();
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        expected.AddRange(length);
        expected.AddRange(header);
        expected.AddRange(Enumerable.Repeat((byte)' ', padded - header.Length));
        var seven = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(seven, 7);
        expected.AddRange(seven);
        var floats = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(floats, 1.0f);
        BinaryPrimitives.WriteSingleLittleEndian(floats.AsSpan(4), -2.0f);
        expected.AddRange(floats);

        Assert.Equal(expected.ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void AFileWrittenByPythonIsReadWithEveryValue()
    {
        var path = FixtureFiles.PathOf("python_written.safetensors");

        var (tensors, metadata) = SafeTensors.Load(path);
        try
        {
            Assert.Equal(new Dictionary<string, string> { ["format"] = "pt", ["written_by"] = "make_torch_fixtures.py" },
                metadata.ToDictionary());
            Assert.Equal(10, tensors.Count);

            Expect(tensors["matrix_f32"], ScalarType.Float32, [2, 3]);
            Assert.Equal([0.5f, -1.25f, 3.0f, 0.125f, -7.5f, 1024.0f], tensors["matrix_f32"].ToArray<float>());

            Expect(tensors["vector_f64"], ScalarType.Float64, [3]);
            Assert.Equal([0.1, -2.5, 1e100], tensors["vector_f64"].ToArray<double>());

            Expect(tensors["ids_i64"], ScalarType.Int64, [2, 2]);
            Assert.Equal([-3L, 0L, 1L << 40, long.MaxValue], tensors["ids_i64"].ToArray<long>());

            Expect(tensors["counts_i32"], ScalarType.Int32, [4]);
            Assert.Equal([int.MinValue, -1, 7, int.MaxValue], tensors["counts_i32"].ToArray<int>());

            // bfloat16 is the upper half of a float32: 1.0 = 0x3F80, -2.5 = 0xC020, 2^-7 = 0x3C00.
            Expect(tensors["gains_bf16"], ScalarType.BFloat16, [3]);
            Assert.Equal([0x80, 0x3F, 0x20, 0xC0, 0x00, 0x3C], tensors["gains_bf16"].ToBytes());
            using (var asFloat = tensors["gains_bf16"].To(ScalarType.Float32))
                Assert.Equal([1.0f, -2.5f, 0.0078125f], asFloat.ToArray<float>());

            Expect(tensors["halves_f16"], ScalarType.Float16, [2, 2]);
            Assert.Equal([(Half)0.5f, (Half)(-65504f), (Half)MathF.Pow(2, -14), (Half)1.0f], tensors["halves_f16"].ToArray<Half>());

            Expect(tensors["mask_bool"], ScalarType.Bool, [5]);
            Assert.Equal([true, false, false, true, true], tensors["mask_bool"].ToArray<bool>());

            Expect(tensors["bytes_u8"], ScalarType.UInt8, [4]);
            Assert.Equal([(byte)0, (byte)1, (byte)128, (byte)255], tensors["bytes_u8"].ToArray<byte>());

            Expect(tensors["scalar_f32"], ScalarType.Float32, []);
            Assert.Equal(42.5, tensors["scalar_f32"].Item());

            Expect(tensors["empty_f32"], ScalarType.Float32, [0, 3]);
            Assert.Equal(0, tensors["empty_f32"].NumElements);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    [Fact]
    public void ReadHeaderListsEntriesWithoutLoadingData()
    {
        var (entries, metadata) = SafeTensors.ReadHeader(FixtureFiles.PathOf("python_written.safetensors"));

        Assert.Equal("pt", metadata["format"]);
        var bf16 = Assert.Single(entries, e => e.Name == "gains_bf16");
        Assert.Equal(ScalarType.BFloat16, bf16.Dtype);
        Assert.Equal([3L], bf16.Shape);
        Assert.Equal((96L, 102L), (bf16.Begin, bf16.End));
        Assert.Equal(859 - 8 - (long)ReadHeaderLength(FixtureFiles.PathOf("python_written.safetensors")),
            entries.Max(e => e.End));
    }

    private static ulong ReadHeaderLength(string path)
    {
        var first = new byte[8];
        using var stream = File.OpenRead(path);
        stream.ReadExactly(first);
        return BinaryPrimitives.ReadUInt64LittleEndian(first);
    }

    private static void Expect(Tensor t, ScalarType dtype, long[] shape)
    {
        Assert.Equal(dtype, t.Dtype);
        Assert.Equal(shape, t.Shape);
    }
}
