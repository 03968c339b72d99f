using System.Net.Sockets;

namespace Orleans.MoE.ClusterProcesses;

/// <summary>A real redis-server (Debian's) on a free loopback port, without persistence, stopped with the test.</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly ChildProcess _process;
    private readonly string _directory;

    public RedisServer()
    {
        if (!File.Exists("/usr/bin/redis-server"))
            throw new InvalidOperationException("redis-server is not installed: run `make test` (it installs the Debian package redis-server) or apt-get install redis-server");
        Port = FreePorts.Next();
        _directory = Path.Combine(Path.GetTempPath(), "moe-redis-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _process = new ChildProcess("/usr/bin/redis-server",
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!Answers())
        {
            if (_process.Process.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException($"redis-server did not start:\n{_process.Output}");
            Thread.Sleep(50);
        }
    }

    public int Port { get; }

    /// <summary>The connection string silos and clients are given.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    private bool Answers()
    {
        try
        {
            using var client = new TcpClient("127.0.0.1", Port);
            using var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            return stream.Read(buffer) > 0 && buffer[0] == (byte)'+';
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
