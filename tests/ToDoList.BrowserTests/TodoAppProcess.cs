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
        var start = new ProcessStartInfo(PublishedApp.DotnetHost(), [Path.Combine(appDir, "todo.dll"), "--urls", baseUrl.ToString().TrimEnd('/')])
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
}
