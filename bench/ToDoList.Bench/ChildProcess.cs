using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using ToDoList.TestSupport;

namespace ToDoList.Bench;

/// <summary>
/// A server process the bench starts (the published <c>todo</c>, or this bench in a <c>serve</c> role): its first
/// output lines are shown (warnings explain a slow run), and disposing kills it by its own <see cref="Process"/>,
/// never by name; so does the bench's exit.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private const int ShownLines = 20;
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _shown;

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the published app: <c>dotnet todo.dll ARGS</c>, with <paramref name="environment"/> added to this one's.</summary>
    public static async Task<ChildProcess> StartAppAsync(string name, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string? workingDirectory = null) =>
        Start(name, PublishedApp.DotnetHost(), [Path.Combine(await PublishedApp.DirectoryAsync(), "todo.dll"), .. arguments], environment, workingDirectory);

    /// <summary>Starts this bench again with <c>serve ARGS</c> (see <see cref="BaselineServers"/>).</summary>
    public static ChildProcess StartBaseline(string name, params string[] arguments)
    {
        var self = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(self) == "dotnet"
            ? Start(name, self, [Assembly.GetEntryAssembly()!.Location, "serve", .. arguments], new Dictionary<string, string>(), null)
            : Start(name, self, ["serve", .. arguments], new Dictionary<string, string>(), null);
    }

    /// <summary>CPU time the process has used so far (user + system, from /proc: 10 ms steps).</summary>
    public TimeSpan CpuTime()
    {
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        var stat = File.ReadAllText($"/proc/{Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>Waits until <paramref name="healthz"/> answers 200; fails if the process exits first or at the deadline.</summary>
    public async Task WaitHealthyAsync(Uri healthz, TimeSpan deadline)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(healthz);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (_process.HasExited || clock.Elapsed > deadline)
            {
                throw new InvalidOperationException($"{Name} is not healthy at {healthz} after {clock.Elapsed.TotalSeconds:F1} s{(_process.HasExited ? $" (exited with {_process.ExitCode})" : "")}.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Waits until the process writes the line <c>ready</c> (the baselines without HTTP).</summary>
    public async Task WaitReadyAsync(TimeSpan deadline) =>
        await _ready.Task.WaitAsync(deadline);

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync();
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static ChildProcess Start(string name, string file, string[] arguments, IReadOnlyDictionary<string, string> environment, string? workingDirectory)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start.");
        var child = new ChildProcess(name, process);
        // Killed with the bench however it ends normally (an exception included): never left running.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => child.Kill();
        process.OutputDataReceived += (_, e) => child.Show(e.Data);
        process.ErrorDataReceived += (_, e) => child.Show(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Disposed: already stopped.
        }
    }

    private void Show(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line == "ready")
        {
            _ready.TrySetResult();
        }
        else if (Interlocked.Increment(ref _shown) <= ShownLines)
        {
            Console.WriteLine($"    {Name}: {line}");
        }
    }
}
