using System.Buffers.Binary;
using System.Text;
using Orleans.MoE.Torch.Serialization;
using Orleans.MoE.Torch.Tests.Support;

namespace Orleans.MoE.Torch.Tests;

/// <summary>
/// Every kind of broken file is refused with a <see cref="SafeTensorsFormatException"/> whose message
/// names the file and the problem, by <see cref="SafeTensors.Load"/> and <see cref="SafeTensors.ReadHeader"/> alike.
/// </summary>
public sealed class SafeTensorsCorruptFileTests : IDisposable
{
    private readonly TemporaryDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A valid file: two F32 tensors (a: [2, 3], b: [4]) and metadata.</summary>
    private byte[] ValidFile()
    {
        using var scope = DisposeScope.Begin();
        var path = _dir.File($"valid-{Guid.NewGuid():N}.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor>
        {
            ["a"] = Tensor.Arange(0, 6, 1, ScalarType.Float32).View(2, 3),
            ["b"] = Tensor.Ones([4]),
        }, new Dictionary<string, string> { ["k"] = "v" });
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    /// <summary>A file with the given header JSON (padded as the format asks) and data section.</summary>
    private static byte[] FileWith(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var padded = (header.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        header.CopyTo(file, 8);
        file.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        return file;
    }

    private SafeTensorsFormatException Refused(byte[] content, params string[] problemWords)
    {
        var path = _dir.File($"broken-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, content);
        return RefusedAt(path, problemWords);
    }

    private static SafeTensorsFormatException RefusedAt(string path, params string[] problemWords)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message);
        foreach (var word in problemWords) Assert.Contains(word, e.Message);
        // The header alone must be refused the same way.
        var headerOnly = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.ReadHeader(path));
        Assert.Equal(e.Message, headerOnly.Message);
        return e;
    }

    [Fact]
    public void AValidFileLoads()
    {
        var path = _dir.File("ok.safetensors");
        File.WriteAllBytes(path, ValidFile());
        var (tensors, _) = SafeTensors.Load(path);
        foreach (var t in tensors.Values) t.Dispose();
        Assert.Equal(2, tensors.Count);
    }

    [Fact]
    public void ATruncatedFileIsRefusedWhereverItIsCut()
    {
        var valid = ValidFile();
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        int[] cuts =
        [
            0,                            // empty file
            4,                            // inside the length
            8,                            // just the length
            8 + headerLength / 2,         // inside the header
            8 + headerLength,             // header without data
            8 + headerLength + 10,        // inside the first tensor
            valid.Length - 1,             // one byte short
        ];
        foreach (var cut in cuts)
        {
            Refused(valid[..cut], "truncated");
        }
    }

    [Fact]
    public void AHeaderLengthBeyondTheFileIsRefused()
    {
        var file = ValidFile();
        BinaryPrimitives.WriteUInt64LittleEndian(file, 1UL << 40);
        Refused(file, "header length 1099511627776", "exceeds");
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        Refused(file, "exceeds");
    }

    [Fact]
    public void AHeaderThatIsNotJsonIsRefused()
    {
        Refused(FileWith("""{"a": {"dtype": "F32", "shape": [1], """, 4), "not valid JSON");
        Refused(FileWith("[1, 2, 3]", 0), "not a JSON object");
    }

    [Fact]
    public void AnUnknownDtypeIsRefusedNamingTheTensorAndTheSupportedOnes()
    {
        var e = Refused(FileWith("""{"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}""", 2),
            "'w'", "F8_E4M3", "not supported");
        Assert.Contains("BF16", e.Message);
    }

    [Fact]
    public void OffsetsThatDoNotMatchTheShapeAreRefused()
    {
        Refused(FileWith("""{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}""", 20),
            "'w'", "20 bytes", "needs 24");
        Refused(FileWith("""{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}""", 8), "'w'", "data_offsets");
        Refused(FileWith("""{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}""", 8), "'w'", "negative");
        Refused(FileWith("""{"w": {"dtype": "F32", "shape": [2]}}""", 8), "'w'", "data_offsets");
    }

    [Fact]
    public void AShapeWhoseByteSizeOverflowsIsRefused()
    {
        Refused(FileWith("""{"w": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}""", 8), "'w'");
        Refused(FileWith("""{"w": {"dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 0]}}""", 0), "'w'");
    }

    [Fact]
    public void OverlappingOrGappedTensorsAreRefused()
    {
        Refused(FileWith("""
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
            """, 12), "'b'", "overlap");
        Refused(FileWith("""
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}}
            """, 20), "'b'", "gap");
        Refused(FileWith("""{"b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}""", 12), "'b'", "gap");
    }

    [Fact]
    public void ATensorNameGivenTwiceIsRefused()
    {
        // Both entries tile the data, so only the duplicate name is wrong; loading must not silently keep one.
        Refused(FileWith("""
            {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
             "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}
            """, 8), "'w'", "more than once");
    }

    [Fact]
    public void TrailingBytesAfterTheLastTensorAreRefused()
    {
        var valid = ValidFile();
        Refused([.. valid, 1, 2, 3], "3 bytes after the last tensor");
    }

    [Fact]
    public void AMissingFileIsRefusedNamingIt()
    {
        var path = _dir.File("no-such.safetensors");
        RefusedAt(path, "not found");
        RefusedAt(Path.Combine(_dir.Path, "no-such-dir", "x.safetensors"), "not found");
    }
}
