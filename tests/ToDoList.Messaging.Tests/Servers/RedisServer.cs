using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ToDoList.TestSupport;

namespace ToDoList.Messaging.Tests.Servers;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port in a temporary folder, nothing persisted. The test run
/// shares one (<see cref="GetSharedAsync"/>, stopped when the test process exits); a test that needs a password
/// starts its own and disposes it. Stopped by its process, never by name.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly Lazy<Task<RedisServer>> Shared = new(() => StartAsync());
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(20);
    private const string FolderPrefix = "todo-redis-";
    private const string PidFile = "redis.pid";

    private readonly string _directory;
    private Process? _process;
    private int _disposed;

    private RedisServer(string directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary><c>redis://127.0.0.1:PORT</c>, no credentials.</summary>
    public string Url => $"redis://127.0.0.1:{Port}";

    public static Task<RedisServer> GetSharedAsync() => Shared.Value;

    /// <summary>Starts a server of its own; <paramref name="arguments"/> are added (e.g. <c>--requirepass</c>).</summary>
    public static async Task<RedisServer> StartAsync(params string[] arguments)
    {
        var executable = FindExecutable("redis-server");
        ServerProcess.DeleteLeftovers(FolderPrefix, PidFile, "redis-server");
        for (var attempt = 1; ; attempt++)
        {
            var directory = Directory.CreateTempSubdirectory(FolderPrefix).FullName;
            var server = new RedisServer(directory, FreeLoopbackPort());
            try
            {
                await server.RunAsync(executable, arguments);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // The port found free was taken before the server bound it: another one.
                await server.DisposeAsync();
                continue;
            }

            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return server;
        }
    }

    /// <summary>Runs <c>redis-cli -p PORT</c> with <paramref name="arguments"/>, not waiting for it: the caller reads and stops it.</summary>
    public Process StartCli(params string[] arguments)
    {
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(FindExecutable("redis-cli"), ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };
        process.Start();
        return process;
    }

    /// <summary>Stops the server (SIGTERM: nothing is persisted anyway), keeping its port and folder.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is not null)
        {
            await ServerProcess.StopAsync(process, StartDeadline);
        }
    }

    /// <summary>Starts the server again on the same port, empty, as after a restart of a server without persistence.</summary>
    public Task StartAgainAsync(params string[] arguments) => RunAsync(FindExecutable("redis-server"), arguments);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopAsync();

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temporary folder.
        }
    }

    private async Task RunAsync(string executable, string[] arguments)
    {
        Directory.CreateDirectory(_directory);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        // Through the shell of ServerProcess: when this process ends, however it ends (a test host is often
        // killed, so ProcessExit never runs), its server ends too and its folder is deleted.
        var process = new Process
        {
            StartInfo = ServerProcess.StartInfo(
                executable,
                [
                    "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--save", "", "--appendonly", "no", "--dir", _directory, "--pidfile", Path.Combine(_directory, PidFile), .. arguments,
                ],
                _directory),
            EnableRaisingEvents = true,
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            log.Enqueue(e.Data);
            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"redis-server exited ({process.ExitCode}) before it was ready:\n{string.Join('\n', log)}"));
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _process = process;
        try
        {
            await ready.Task.WaitAsync(StartDeadline);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"redis-server did not say it was ready within {StartDeadline}:\n{string.Join('\n', log)}");
        }

        await WaitForPongAsync();
    }

    /// <summary>Ready when PING answers PONG on the port.</summary>
    private async Task WaitForPongAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[64];
                var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(2));
                var answer = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
                // PONG, or NOAUTH from a server with a password: either way it serves.
                if (answer.StartsWith("+PONG", StringComparison.Ordinal) || answer.StartsWith("-NOAUTH", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException) when (deadline.Elapsed < StartDeadline)
            {
            }

            if (deadline.Elapsed > StartDeadline)
            {
                throw new InvalidOperationException($"redis-server on {Port} does not answer PING after {StartDeadline}.");
            }

            await Task.Delay(20);
        }
    }

    private static string FindExecutable(string name)
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/sbin")
            .Select(d => Path.Combine(d, name));
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"{name} is not installed: run ./test.sh, which installs it, or apt-get install redis-server.");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
