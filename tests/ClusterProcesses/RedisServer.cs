using System.Net.Sockets;

namespace Orleans.MoE.ClusterProcesses;

/// <summary>
/// A real redis-server (Debian's) on a free loopback port, stopped with the test. It keeps no
/// snapshots while it runs; <see cref="Stop"/> saves its data on the way down (SHUTDOWN SAVE) and
/// <see cref="Start"/> brings it back on the same port from that file, as a restarted server would.
/// <see cref="Flush"/> and <see cref="RestartEmpty"/> lose its data, as a server restarted without its
/// data files would.
/// </summary>
internal sealed class RedisServer : IDisposable
{
    private readonly string _directory;
    private ChildProcess? _process;

    public RedisServer()
    {
        if (!File.Exists("/usr/bin/redis-server"))
            throw new InvalidOperationException("redis-server is not installed: run `make test` (it installs the Debian package redis-server) or apt-get install redis-server");
        Port = FreePorts.Next();
        _directory = Path.Combine(Path.GetTempPath(), "moe-redis-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        Start();
    }

    public int Port { get; }

    /// <summary>The connection string silos and clients are given.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts the server (again) on its port, loading the data a <see cref="Stop"/> saved; waits (at most 20 s) until it answers.</summary>
    public void Start()
    {
        if (_process is not null) throw new InvalidOperationException("redis-server already runs");
        _process = new ChildProcess("/usr/bin/redis-server",
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory, "--dbfilename", "dump.rdb"]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Send("PING") is not ['+', ..])
        {
            if (_process.Process.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException($"redis-server did not start:\n{_process.Output}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Stops the server with its data saved (SHUTDOWN SAVE); waits (at most 20 s) until it has exited.</summary>
    public void Stop()
    {
        if (_process is null) throw new InvalidOperationException("redis-server is not running");
        Send("SHUTDOWN SAVE");   // no answer: the server closes the connection as it exits
        if (_process.WaitForExit(TimeSpan.FromSeconds(20)) != 0) throw new InvalidOperationException($"redis-server did not shut down cleanly:\n{_process.Output}");
        _process.Dispose();
        _process = null;
    }

    /// <summary>Deletes every key (FLUSHALL) while the server keeps running: a server that lost its data under its clients.</summary>
    public void Flush()
    {
        var answer = Send("FLUSHALL");
        if (answer is not ['+', 'O', 'K', ..]) throw new InvalidOperationException($"FLUSHALL was answered '{answer}'");
    }

    /// <summary>Stops the server without saving and starts it again on its port with no data file: everything it held is lost.</summary>
    public void RestartEmpty()
    {
        if (_process is null) throw new InvalidOperationException("redis-server is not running");
        Send("SHUTDOWN NOSAVE");
        if (_process.WaitForExit(TimeSpan.FromSeconds(20)) != 0) throw new InvalidOperationException($"redis-server did not shut down cleanly:\n{_process.Output}");
        _process.Dispose();
        _process = null;
        File.Delete(Path.Combine(_directory, "dump.rdb"));
        Start();
    }

    /// <summary>Sends one inline command and returns the first bytes of the answer as text ("" when the server closed the connection, null when none listens).</summary>
    private string? Send(string command)
    {
        try
        {
            using var client = new TcpClient("127.0.0.1", Port);
            using var stream = client.GetStream();
            stream.Write(System.Text.Encoding.ASCII.GetBytes(command + "\r\n"));
            stream.ReadTimeout = 20_000;
            var buffer = new byte[64];
            var read = stream.Read(buffer);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _process?.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
