using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ToDoList.BrowserTests;

/// <summary>
/// The all-in-one <c>todo</c> app, published and run as a real OS process on a free loopback port,
/// with the embedded queue and its own SQLite database in a temp folder.
/// </summary>
public sealed class TodoAppProcess : IAsyncDisposable
{
    /// <summary>Set it to an already published folder (test.sh publishes once) to skip the publish here.</summary>
    public const string AppDirVariable = "TODO_APP_DIR";

    private static readonly TimeSpan PublishDeadline = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private const int KeptLogLines = 400;

    private readonly Process _process;
    private readonly string _workDir;
    private readonly ConcurrentQueue<string> _log = new();

    private TodoAppProcess(Process process, string workDir, Uri baseUrl)
    {
        _process = process;
        _workDir = workDir;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public int ProcessId => _process.Id;

    /// <summary>The last lines the app wrote to stdout and stderr, for failure messages.</summary>
    public string Log => string.Join('\n', _log);

    public static async Task<TodoAppProcess> StartAsync(string appDir)
    {
        var port = FreePort();
        var baseUrl = new Uri($"http://127.0.0.1:{port}");
        var workDir = Directory.CreateTempSubdirectory("todo-browser-").FullName;
        // Run from a folder that is not the app's, as the image does (/data): static assets must still be served.
        var start = new ProcessStartInfo(DotnetHost(), [Path.Combine(appDir, "todo.dll"), "--urls", baseUrl.ToString().TrimEnd('/')])
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["MessageQueue__Url"] = "embedded://";
        start.Environment["ConnectionStrings__ToDoDb"] = $"Data Source={Path.Combine(workDir, "todo.db")}";

        var process = new Process { StartInfo = start };
        var app = new TodoAppProcess(process, workDir, baseUrl);
        process.OutputDataReceived += (_, e) => app.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => app.Keep(e.Data);
        try
        {
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await app.WaitUntilHealthyAsync();
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary><c>TODO_APP_DIR</c> when set, else <c>dotnet publish src/ToDoList -c Release -o .build/app</c>: only the published output serves blazor.web.js in Production.</summary>
    public static async Task<string> PublishedAppDirAsync()
    {
        if (Environment.GetEnvironmentVariable(AppDirVariable) is { Length: > 0 } given)
        {
            return File.Exists(Path.Combine(given, "todo.dll"))
                ? given
                : throw new InvalidOperationException($"{AppDirVariable}={given} holds no todo.dll; publish src/ToDoList there first.");
        }

        var repo = RepositoryRoot();
        var output = Path.Combine(repo, ".build", "app");
        var publish = new ProcessStartInfo(DotnetHost(), ["publish", Path.Combine(repo, "src", "ToDoList"), "-c", "Release", "-o", output, "--nologo"])
        {
            WorkingDirectory = repo,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(publish)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(PublishDeadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet publish did not finish within {PublishDeadline}.\n{await stdout}{await stderr}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish failed with exit code {process.ExitCode}.\n{await stdout}{await stderr}");
        }

        return output;
    }

    /// <summary>The folder holding ToDoList.slnx, found by walking up from the test assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ToDoList.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No ToDoList.slnx above {AppContext.BaseDirectory}.");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(deadline.Token);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started: nothing to stop.
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_workDir, recursive: true);
            }
            catch (IOException)
            {
                // A file still open a moment after exit; the OS cleans /tmp.
            }
        }
    }

    private async Task WaitUntilHealthyAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        using var deadline = new CancellationTokenSource(StartDeadline);
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        string? last = null;
        do
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"todo exited with code {_process.ExitCode} before it was healthy.\n{Log}");
            }

            try
            {
                using var response = await http.GetAsync("/healthz", deadline.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(deadline.Token)}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException) when (!deadline.IsCancellationRequested)
            {
                last = "/healthz timed out";
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        while (await WaitOrFalse(poll, deadline.Token));

        throw new TimeoutException($"todo did not answer 200 on {BaseUrl}healthz within {StartDeadline.TotalSeconds} s (last: {last}).\n{Log}");
    }

    private static async Task<bool> WaitOrFalse(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > KeptLogLines && _log.TryDequeue(out _))
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The dotnet host that runs these tests, so the app runs on the same SDK's runtime.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
