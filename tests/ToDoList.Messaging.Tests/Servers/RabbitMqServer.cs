using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ToDoList.Messaging.Tests.Servers;

/// <summary>
/// A real RabbitMQ broker (the package's own start script, not Debian's wrapper) on free loopback
/// ports, with its own HOME (Erlang cookie), epmd port, node name and folders in a temporary folder.
/// It takes 7–9 s to start: the test run shares one (<see cref="GetSharedAsync"/>), stopped when the
/// test process exits. Stopped by its process (SIGTERM to the script, then its epmd), never by name.
/// </summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    // The package's own start script (Debian 12: 3.10.8), not /usr/sbin/rabbitmq-server, which switches user and writes under /var.
    private static readonly string? Script = Directory.Exists("/usr/lib/rabbitmq/lib")
        ? Directory.GetDirectories("/usr/lib/rabbitmq/lib", "rabbitmq_server-*").Select(d => Path.Combine(d, "sbin", "rabbitmq-server")).Where(File.Exists).Order(StringComparer.Ordinal).LastOrDefault()
        : null;
    private const string FolderPrefix = "todo-rabbitmq-";
    private static readonly Lazy<Task<RabbitMqServer>> Shared = new(() => StartAsync());
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(30);

    private readonly string _directory;
    private readonly string _nodeName;
    private readonly ConcurrentQueue<string> _log = new();
    private Process? _process;
    private string _settings = "";
    private int _disposed;

    private RabbitMqServer(string directory, int port, int distPort, int epmdPort)
    {
        _directory = directory;
        Port = port;
        DistPort = distPort;
        EpmdPort = epmdPort;
        _nodeName = $"todo{Path.GetFileName(directory).Replace(FolderPrefix, "", StringComparison.Ordinal).Replace(".", "", StringComparison.Ordinal)}@localhost";
    }

    public int Port { get; }

    public int DistPort { get; }

    public int EpmdPort { get; }

    /// <summary><c>amqp://guest:guest@127.0.0.1:PORT/</c>: the broker's default user, allowed from loopback.</summary>
    public string Url => $"amqp://guest:guest@127.0.0.1:{Port}/";

    /// <summary>The same for the broker's own clients (amqp-publish, amqp-consume), which read a final '/' as the vhost "" (AMQP URI spec).</summary>
    public string ToolUrl => $"amqp://guest:guest@127.0.0.1:{Port}";

    /// <summary><c>amqp://USER:PASSWORD@127.0.0.1:PORT/VHOST</c>: a user of its own, e.g. one made by deploy/permissions/rabbitmq-users.sh.</summary>
    public string UrlFor(string user, string password, string vhost) =>
        $"amqp://{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password)}@127.0.0.1:{Port}/{Uri.EscapeDataString(vhost)}";

    /// <summary>
    /// What <c>rabbitmqctl</c> needs to reach this node (its HOME holds the Erlang cookie, its own epmd port and node
    /// name), and in <c>RABBITMQCTL</c> the package's own rabbitmqctl beside the start script.
    /// </summary>
    public IReadOnlyDictionary<string, string> CtlEnvironment => new Dictionary<string, string>
    {
        ["HOME"] = _directory,
        ["ERL_EPMD_PORT"] = EpmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RABBITMQ_NODENAME"] = _nodeName,
        ["RABBITMQ_CONF_ENV_FILE"] = "/dev/null",
        ["RABBITMQCTL"] = Path.Combine(Path.GetDirectoryName(Script!)!, "rabbitmqctl"),
    };

    /// <summary>The run's shared broker, started by the first caller.</summary>
    public static Task<RabbitMqServer> GetSharedAsync() => Shared.Value;

    /// <summary>True where the broker's package is installed (./test.sh installs it).</summary>
    public static bool IsInstalled => Script is not null;

    /// <summary>Starts a broker of its own; <paramref name="settings"/> are added to its rabbitmq.conf (e.g. a TLS listener).</summary>
    public static async Task<RabbitMqServer> StartAsync(string settings = "")
    {
        if (!IsInstalled)
        {
            throw new InvalidOperationException("rabbitmq-server is not installed (no /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server): run ./test.sh, which installs it, or apt-get install rabbitmq-server.");
        }

        for (var attempt = 1; ; attempt++)
        {
            var directory = Directory.CreateTempSubdirectory(FolderPrefix).FullName;
            var server = new RabbitMqServer(directory, FreeLoopbackPort(), FreeLoopbackPort(), FreeLoopbackPort()) { _settings = settings };
            try
            {
                await server.RunAsync();
            }
            catch (InvalidOperationException) when (attempt < 2)
            {
                // A port found free was taken before the broker bound it: other ports.
                await server.DisposeAsync();
                continue;
            }

            // The test host gives exit handlers little time: a broker slow to stop is killed, with its epmd.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => server.DisposeAsync().AsTask()).Unwrap().GetAwaiter().GetResult();
            return server;
        }
    }

    /// <summary>Stops the broker as an operator would (SIGTERM: it closes connections, keeps durable queues), keeping its folder.</summary>
    public Task StopAsync() => StopAsync(StopDeadline);

    private async Task StopAsync(TimeSpan deadline)
    {
        var process = _process;
        _process = null;
        if (process is not null)
        {
            using (process)
            {
                if (!process.HasExited)
                {
                    _ = Kill(process.Id, SigTerm);
                    try
                    {
                        await process.WaitForExitAsync().WaitAsync(deadline);
                    }
                    catch (TimeoutException)
                    {
                        process.Kill(entireProcessTree: true);
                        await process.WaitForExitAsync();
                    }
                }
            }
        }

        await StopEpmdAsync();
    }

    /// <summary>Starts the broker again on the same ports with the same data, as after a restart.</summary>
    public Task StartAgainAsync() => RunAsync();

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
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task RunAsync()
    {
        var config = Path.Combine(_directory, "rabbitmq.conf");
        var plugins = Path.Combine(_directory, "enabled_plugins");
        await File.WriteAllTextAsync(config, "log.file.level = info\n" + _settings + "\n");
        await File.WriteAllTextAsync(plugins, "[].\n");
        var start = new ProcessStartInfo(Script!)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        var environment = start.Environment;
        environment["HOME"] = _directory;
        environment["ERL_EPMD_PORT"] = EpmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        environment["RABBITMQ_CONF_ENV_FILE"] = "/dev/null";
        environment["RABBITMQ_NODENAME"] = _nodeName;
        environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        environment["RABBITMQ_NODE_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["RABBITMQ_DIST_PORT"] = DistPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia");
        environment["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log");
        environment["RABBITMQ_CONFIG_FILE"] = config;
        environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = plugins;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        StartWatchdog(process.Id);

        var deadline = Stopwatch.StartNew();
        while (!await AcceptsAsync())
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"rabbitmq-server exited ({process.ExitCode}) before it was ready:\n{string.Join('\n', _log)}");
            }

            if (deadline.Elapsed > StartDeadline)
            {
                throw new InvalidOperationException($"rabbitmq-server did not accept AMQP connections on {Port} within {StartDeadline}:\n{string.Join('\n', _log)}");
            }

            // Polling a port: there is no event to wait for.
            await Task.Delay(50);
        }
    }

    private async Task<bool> AcceptsAsync()
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > 200)
        {
            _log.TryDequeue(out _);
        }
    }

    /// <summary>The epmd the node started on its own port: nobody else uses it.</summary>
    private async Task StopEpmdAsync()
    {
        try
        {
            using var epmd = Process.Start(new ProcessStartInfo("epmd", ["-port", EpmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-kill"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (epmd is not null)
            {
                await epmd.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
        {
            // No epmd (never started): nothing to stop.
        }

    }

    /// <summary>
    /// Should the test host end without disposing (killed, or its exit handlers cut short), a detached
    /// watchdog stops the broker and its epmd and deletes the folder once the test host is gone.
    /// </summary>
    private void StartWatchdog(int scriptPid)
    {
        var port = EpmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Only what is still ours: the folder exists (not disposed) and the process is this broker's script (its HOME is the folder).
        var watch = $"tail --pid={Environment.ProcessId} -f /dev/null; [ -d '{_directory}' ] || exit 0; " +
            $"if tr '\\\\0' '\\\\n' < /proc/{scriptPid}/environ 2>/dev/null | grep -qx 'HOME={_directory}'; then kill -TERM {scriptPid}; tail --pid={scriptPid} -f /dev/null; fi; " +
            $"epmd -port {port} -kill; rm -rf '{_directory}'";
        using var launcher = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"setsid /bin/sh -c \"{watch}\" >/dev/null 2>&1 </dev/null &"])
        {
            UseShellExecute = false,
        });
        launcher?.WaitForExit();
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
