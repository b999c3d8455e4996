using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ToDoList.ProcessTests;

/// <summary>
/// The seed's services as separate <c>todo</c> processes on one message queue and one database, as
/// <c>docker-compose up --scale save-handler=3</c> runs them: each role started as its own OS process,
/// waited for by what it says or answers, and killed by its <see cref="Process"/> when the deployment ends.
/// </summary>
public sealed class Deployment : IAsyncDisposable
{
    /// <summary>How long a role may take to start: .NET start, migrations, subscriptions, on 2 busy cores.</summary>
    public static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    /// <summary>The line a handler logs once its durable group on new items is in place: published items wait for it from then on.</summary>
    public const string SubscribedToNewItems = "Subscribed to events.todo.newitem";

    private readonly string _appDir;
    private readonly ITestOutputHelper _output;
    private readonly string _workingDirectory = Directory.CreateTempSubdirectory("todo-process-").FullName;
    private readonly List<TodoProcess> _processes = [];
    private readonly Dictionary<string, int> _started = [];

    public Deployment(string appDir, string queueUrl, string connectionString, ITestOutputHelper output)
    {
        _appDir = appDir;
        _output = output;
        QueueUrl = queueUrl;
        Settings = new Dictionary<string, string?>
        {
            ["MessageQueue__Url"] = queueUrl,
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__ToDoDb"] = connectionString,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
    }

    public string QueueUrl { get; }

    /// <summary>The environment every process of the deployment starts with (settings use <c>__</c>, SPEC §2).</summary>
    public Dictionary<string, string?> Settings { get; }

    public IReadOnlyList<TodoProcess> Processes
    {
        get
        {
            lock (_processes)
            {
                return [.. _processes];
            }
        }
    }

    /// <summary>The tails of every process's output, for assertion messages.</summary>
    public string Logs(int lines = TodoProcess.TailLines) => string.Join("\n\n", Processes.Select(p => p.Tail(lines)));

    /// <summary>Starts <c>todo ARGS</c> and returns at once.</summary>
    public TodoProcess Start(string name, IEnumerable<string> arguments, Uri? baseUrl = null)
    {
        var process = TodoProcess.Start(name, _appDir, arguments, Settings, _workingDirectory, baseUrl);
        lock (_processes)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>Starts <c>todo save-handler</c> or <c>todo audit-handler</c> (no listener) and waits until its durable group on new items is in place.</summary>
    public async Task<TodoProcess> StartHandlerAsync(string role)
    {
        var process = Start(NextName(role), [role]);
        await process.WaitForLineAsync(SubscribedToNewItems, StartDeadline);
        return process;
    }

    /// <summary>Starts several handlers at once, as <c>--scale</c> does, and waits until every one is subscribed.</summary>
    public async Task<TodoProcess[]> StartHandlersAsync(string role, int count)
    {
        var processes = Enumerable.Range(0, count).Select(_ => Start(NextName(role), [role])).ToArray();
        await Task.WhenAll(processes.Select(p => p.WaitForLineAsync(SubscribedToNewItems, StartDeadline)));
        return processes;
    }

    /// <summary>Starts a role on a free loopback port (<c>--urls</c>) and waits until its <c>/healthz</c> answers 200.</summary>
    public async Task<TodoProcess> StartListeningAsync(string role)
    {
        var baseUrl = new Uri($"http://127.0.0.1:{FreeLoopbackPort()}");
        var process = Start(NextName(role), [role, "--urls", baseUrl.ToString().TrimEnd('/')], baseUrl);
        await WaitUntilHealthyAsync(process);
        return process;
    }

    /// <summary>Starts the all-in-one <c>todo</c> (no role) on a free loopback port and waits until its <c>/healthz</c> answers 200.</summary>
    public async Task<TodoProcess> StartAllInOneAsync()
    {
        var baseUrl = new Uri($"http://127.0.0.1:{FreeLoopbackPort()}");
        var process = Start(NextName("todo"), ["--urls", baseUrl.ToString().TrimEnd('/')], baseUrl);
        await WaitUntilHealthyAsync(process);
        return process;
    }

    /// <summary>Starts <c>todo mq ARGS</c> (the queue from <c>MessageQueue__Url</c>) and returns at once.</summary>
    public TodoProcess StartMq(params string[] arguments) => Start(NextName("mq " + arguments.FirstOrDefault()), ["mq", .. arguments]);

    /// <summary>Runs <c>todo mq ARGS</c> to its end; returns the process, exited.</summary>
    public async Task<TodoProcess> RunMqAsync(TimeSpan timeout, params string[] arguments)
    {
        var process = StartMq(arguments);
        await process.WaitForExitAsync(timeout);
        return process;
    }

    /// <summary>An HTTP client on a listening role.</summary>
    public static HttpClient ClientOf(TodoProcess process) =>
        new() { BaseAddress = process.BaseUrl ?? throw new InvalidOperationException($"{process.Name} does not listen."), Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        var processes = Processes;
        try
        {
            await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
            foreach (var process in processes)
            {
                _output.WriteLine($"{process.Name}: pid {process.Id}, exit {process.ExitCode?.ToString() ?? "?"}, {process.Lines.Count} lines of output");
            }
        }
        finally
        {
            try
            {
                Directory.Delete(_workingDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A temporary folder: the OS cleans /tmp.
            }
        }
    }

    private static async Task WaitUntilHealthyAsync(TodoProcess process)
    {
        using var http = new HttpClient { BaseAddress = process.BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        string? last = null;
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        do
        {
            if (process.HasExited)
            {
                Assert.Fail($"{process.Name} exited before /healthz answered 200 (last: {last}).\n{process.Tail()}");
            }

            try
            {
                using var response = await http.GetAsync("/healthz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "no answer within 5 s";
            }
        }
        while (deadline.Elapsed < StartDeadline && await poll.WaitForNextTickAsync());

        Assert.Fail($"{process.Name} did not answer 200 on /healthz within {StartDeadline.TotalSeconds:0} s (last: {last}).\n{process.Tail()}");
    }

    private string NextName(string role)
    {
        lock (_started)
        {
            var n = _started[role] = _started.GetValueOrDefault(role) + 1;
            return $"{role} #{n}";
        }
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
