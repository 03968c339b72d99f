using System.Security.Cryptography;
using System.Text;
using Orleans.MoE.Torch.Serialization;
using Orleans.Runtime;
using Orleans.Storage;

namespace Orleans.MoE.Silo.Storage;

/// <summary>
/// Grain state as JSON files under one directory (the embedded cluster keeps it in the experiment
/// directory, so that running the experiment again resumes it). Each write checks the ETag it was
/// given against the file's and replaces the file atomically; a stale ETag is an
/// <see cref="InconsistentStateException"/>, as with every Orleans storage provider.
/// </summary>
internal sealed class FileGrainStorage(string directory, IGrainStorageSerializer serializer) : IGrainStorage
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        await _lock.WaitAsync();
        try
        {
            if (!File.Exists(path))
            {
                grainState.RecordExists = false;
                grainState.ETag = null;
                return;
            }
            var bytes = await File.ReadAllBytesAsync(path);
            grainState.State = serializer.Deserialize<T>(new BinaryData(bytes))!;
            grainState.ETag = ETagOf(bytes);
            grainState.RecordExists = true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        var bytes = serializer.Serialize(grainState.State).ToArray();
        await _lock.WaitAsync();
        try
        {
            CheckETag(path, grainState.ETag, grainId);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicFile.Write(path, s => s.Write(bytes));
            grainState.ETag = ETagOf(bytes);
            grainState.RecordExists = true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        await _lock.WaitAsync();
        try
        {
            CheckETag(path, grainState.ETag, grainId);
            File.Delete(path);
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
        finally
        {
            _lock.Release();
        }
    }

    private static void CheckETag(string path, string? expected, GrainId grainId)
    {
        var stored = File.Exists(path) ? ETagOf(File.ReadAllBytes(path)) : null;
        if (stored != expected)
            throw new InconsistentStateException($"the state of {grainId} in {path} was written by another activation", stored, expected);
    }

    private string PathOf(string stateName, GrainId grainId)
    {
        // Grain ids hold '/' and other characters a file name cannot: keep the readable part, add a hash for uniqueness.
        var id = grainId.ToString();
        var readable = new string(id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..12];
        return Path.Combine(directory, stateName, $"{readable}.{hash}.json");
    }

    private static string ETagOf(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
}
