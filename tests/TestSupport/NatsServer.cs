using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ToDoList.TestSupport;

/// <summary>
/// A real <c>nats-server</c> with JetStream, on free loopback ports, in a temporary folder. The test
/// run shares one (<see cref="GetSharedAsync"/>, stopped when the test process exits, however it exits:
/// see <see cref="ServerProcess"/>); tests that restart or configure a server start their own and dispose it.
/// Stopped by its process, never by name.
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    private static readonly Lazy<Task<NatsServer>> Shared = new(() => StartAsync());
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(20);
    private const string FolderPrefix = "todo-nats-";
    private const string PidFile = "nats.pid";

    private readonly string _directory;
    private readonly string _config;
    private Process? _process;
    private int _disposed;

    private NatsServer(string directory, string config, int port, int monitorPort)
    {
        _directory = directory;
        _config = config;
        Port = port;
        MonitorPort = monitorPort;
    }

    public int Port { get; }

    public int MonitorPort { get; }

    /// <summary><c>nats://127.0.0.1:PORT</c>, no credentials.</summary>
    public string Url => $"nats://127.0.0.1:{Port}";

    /// <summary>The run's shared server (max_payload 2 MB, JetStream on), started by the first caller.</summary>
    public static Task<NatsServer> GetSharedAsync() => Shared.Value;

    /// <summary>
    /// Starts a server of its own. <paramref name="settings"/> are added to the configuration
    /// (e.g. an <c>authorization</c> block); <paramref name="maxPayload"/> replaces the 2 MB the tests need;
    /// <paramref name="jetStream"/> false starts it without JetStream.
    /// </summary>
    public static async Task<NatsServer> StartAsync(string settings = "", string maxPayload = "2MB", bool jetStream = true)
    {
        var executable = FindExecutable();
        ServerProcess.DeleteLeftovers(FolderPrefix, PidFile, "nats-server");
        for (var attempt = 1; ; attempt++)
        {
            var directory = Directory.CreateTempSubdirectory(FolderPrefix).FullName;
            var (port, monitorPort) = (FreeLoopbackPort(), FreeLoopbackPort());
            var config = Path.Combine(directory, "nats.conf");
            await File.WriteAllTextAsync(config, $$"""
                listen: "127.0.0.1:{{port}}"
                http: "127.0.0.1:{{monitorPort}}"
                max_payload: {{maxPayload}}
                pid_file: "{{Path.Combine(directory, PidFile)}}"
                jetstream {
                  enabled: {{(jetStream ? "true" : "false")}}
                  store_dir: "{{Path.Combine(directory, "js")}}"
                }
                {{settings}}
                """);
            var server = new NatsServer(directory, config, port, monitorPort);
            try
            {
                await server.RunAsync(executable);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // A port found free was taken before the server bound it: another pair.
                await server.DisposeAsync();
                continue;
            }

            // The shared server ends with the test process; one a test forgot to dispose does too.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return server;
        }
    }

    /// <summary>Stops the server as an operator would (SIGTERM: it flushes JetStream and closes connections), keeping its folder.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is not null)
        {
            await ServerProcess.StopAsync(process, StartDeadline);
        }
    }

    /// <summary>Starts the server again on the same ports with the same JetStream folder, as after a restart.</summary>
    public Task StartAgainAsync() => RunAsync(FindExecutable());

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

    private async Task RunAsync(string executable)
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        // Through the shell of ServerProcess: when this process ends, however it ends (a test host is often
        // killed, so ProcessExit never runs), its server ends too and its folder is deleted.
        var process = new Process
        {
            StartInfo = ServerProcess.StartInfo(executable, ["-c", _config], _directory),
            EnableRaisingEvents = true,
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            log.Enqueue(e.Data);
            if (e.Data.Contains("Server is ready", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"nats-server exited ({process.ExitCode}) before it was ready:\n{string.Join('\n', log)}"));
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
            throw new InvalidOperationException($"nats-server did not say it was ready within {StartDeadline}:\n{string.Join('\n', log)}");
        }

        await WaitUntilHealthyAsync();
    }

    /// <summary>After "Server is ready", /healthz also says JetStream is up; it answers at once, or within a few tries.</summary>
    private async Task WaitUntilHealthyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{MonitorPort}/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (deadline.Elapsed < StartDeadline)
            {
            }

            if (deadline.Elapsed > StartDeadline)
            {
                throw new InvalidOperationException($"nats-server on {Port} is not healthy after {StartDeadline}.");
            }

            await Task.Delay(20);
        }
    }

    private static string FindExecutable()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Append("/usr/bin")
            .Select(d => Path.Combine(d, "nats-server"));
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nats-server is not installed: run ./test.sh, which installs it, or apt-get install nats-server.");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
