using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace ToDoList.Tests;

/// <summary>
/// SPEC §2: the password in <c>ConnectionStrings:ToDoDb</c> never appears in a log line, a health answer or an error,
/// checked on the real <c>todo</c> executable logging everything (Trace) against a PostgreSQL that asks for passwords.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabasePasswordTests
{
    [Fact]
    public async Task A_refused_password_is_named_as_the_failure_but_never_printed()
    {
        var server = await PostgresServer.GetAsync();
        var password = Secret();
        var right = await server.CreateDatabaseWithPasswordAsync(Secret());
        var wrong = Regex.Replace(right, "Password=[^;]*", "Password=" + password);

        await using var todo = TodoProcess.Start(wrong);
        var exitCode = await todo.WaitForExitAsync();

        Assert.True(exitCode == 2, $"exit code {exitCode}: {todo.Output}");
        Assert.Contains("the database failed", todo.LastErrorLine);
        Assert.Contains("28P01", todo.LastErrorLine);
        Assert.DoesNotContain(password, todo.Output);
    }

    [Fact]
    public async Task An_unreachable_server_is_named_as_the_failure_but_the_password_never_printed()
    {
        var password = Secret();
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();

        await using var todo = TodoProcess.Start($"Host=127.0.0.1;Port={port};Username=todo;Password={password};Database=todo;Timeout=5");
        var exitCode = await todo.WaitForExitAsync();

        Assert.True(exitCode == 2, $"exit code {exitCode}: {todo.Output}");
        Assert.Contains("the database failed", todo.LastErrorLine);
        Assert.DoesNotContain(password, todo.Output);
    }

    [Fact]
    public async Task A_running_app_whose_password_stops_working_turns_unhealthy_and_never_prints_it()
    {
        var server = await PostgresServer.GetAsync();
        var password = Secret();
        // No pooling: each health check and each handler logs in again, so the changed password is met at once.
        var connectionString = await server.CreateDatabaseWithPasswordAsync(password) + ";Pooling=false";
        await using var todo = TodoProcess.Start(connectionString);
        using var client = new HttpClient { BaseAddress = await todo.WaitForAddressAsync(), Timeout = TimeSpan.FromSeconds(30) };
        var saved = await client.AddItemAndWaitAsync(TodoHttp.UniqueText("while the password works"));
        Assert.True(saved.Id > 0);
        var role = Regex.Match(connectionString, "Username=([^;]*)").Groups[1].Value;

        await server.ExecuteAsync($"ALTER ROLE {role} PASSWORD '{Secret()}'");

        using var health = await client.GetAsync("/healthz");
        var healthBody = await health.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("Unhealthy", healthBody);
        Assert.DoesNotContain(password, healthBody);
        using var list = await client.GetAsync("/todo");
        Assert.DoesNotContain(password, await list.Content.ReadAsStringAsync());
        var eventId = await client.AddItemAsync(TodoHttp.UniqueText("after the password changed"));
        await Eventually.True(() => Task.FromResult(todo.Output.Contains($"failed on message {eventId}", StringComparison.Ordinal)), "the save handler to fail on the changed password");
        Assert.Contains("28P01", todo.Output);
        Assert.DoesNotContain(password, todo.Output);
    }

    private static string Secret() => "pw-" + Guid.NewGuid().ToString("N");
}

/// <summary>The <c>todo</c> executable, all-in-one on PostgreSQL and the in-memory queue, logging everything, its output kept.</summary>
internal sealed partial class TodoProcess : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private TodoProcess(Process process) => _process = process;

    /// <summary>Everything written so far, standard output and error.</summary>
    public string Output => string.Join('\n', _lines);

    public string LastErrorLine => _errors.LastOrDefault() ?? "";

    public static TodoProcess Start(string connectionString)
    {
        var start = new ProcessStartInfo(DotnetHost(),
        [
            Path.Combine(AppContext.BaseDirectory, "todo.dll"),
            "--urls", "http://127.0.0.1:0",
            "--MessageQueue:Url=memory://",
            "--Database:Provider=Postgres",
            $"--ConnectionStrings:ToDoDb={connectionString}",
            "--Logging:LogLevel:Default=Trace",
            "--Logging:LogLevel:Microsoft=Trace",
            "--Logging:LogLevel:Microsoft.AspNetCore=Trace",
            "--Logging:LogLevel:Microsoft.EntityFrameworkCore=Trace",
            "--Logging:LogLevel:Npgsql=Trace",
        ])
        {
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var name in new[] { "MessageQueue__Url", "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", "ConnectionStrings__ToDoDb", "Database__Provider" })
        {
            start.Environment.Remove(name);
        }

        var process = new Process { StartInfo = start };
        var todo = new TodoProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                todo._lines.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                todo._lines.Enqueue(e.Data);
                todo._errors.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return todo;
    }

    /// <summary>The address Kestrel reports once it listens.</summary>
    public Task<Uri> WaitForAddressAsync() =>
        Eventually.Returns(
            () =>
            {
                Assert.False(_process.HasExited, $"todo exited early: {Output}");
                var match = _lines.Select(l => ListeningLine().Match(l)).FirstOrDefault(m => m.Success);
                return Task.FromResult(match is null ? null : new Uri(match.Groups[1].Value));
            },
            "todo to listen",
            Deadline);

    /// <summary>The exit code, once the process ended and its output is read to the end.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"todo did not exit within {Deadline.TotalSeconds:0} s: {Output}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>The <c>dotnet</c> that runs these tests, so the app runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
