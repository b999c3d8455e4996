using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using ToDoList.Data;
using ToDoList.Hosting;
using ToDoList.Messaging;

namespace ToDoList.Tests;

/// <summary>
/// The real all-in-one app, in this process, on a free loopback port, with the in-memory queue and a database of
/// its own: by default a SQLite file in a temporary folder, or a fresh database on the run's PostgreSQL
/// (<see cref="PostgresTodoAppFixture"/>). One per test class; stopped and deleted afterwards.
/// </summary>
public class TodoAppFixture : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "todo-tests-" + Guid.NewGuid().ToString("N"));
    private IHost? _host;
    private HttpClient? _client;

    public TodoAppFixture()
        : this(DatabaseProvider.Sqlite)
    {
    }

    protected TodoAppFixture(DatabaseProvider provider) => Provider = provider;

    public DatabaseProvider Provider { get; }

    public IHost Host => _host ?? throw new InvalidOperationException("The app has not started.");

    public IServiceProvider Services => Host.Services;

    public MessageBus Bus => Services.GetRequiredService<MessageBus>();

    /// <summary>An HTTP client whose base address is the app's bound address.</summary>
    public HttpClient Client => _client ?? throw new InvalidOperationException("The app has not started.");

    public Uri Address => Client.BaseAddress!;

    /// <summary>Settings beyond the defaults, as command-line arguments (<c>--Key=value</c>).</summary>
    protected virtual IEnumerable<string> Settings => [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var connectionString = Provider switch
        {
            DatabaseProvider.Postgres => await PostgresDatabaseAsync(),
            _ => $"Data Source={Path.Combine(_directory, "todo.db")}",
        };
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--environment", "Development",
            "--MessageQueue:Url=memory://",
            $"--Database:Provider={Provider}",
            $"--ConnectionStrings:ToDoDb={connectionString}",
            .. Settings,
        ];
        _host = TodoApp.Build(Role.AllInOne, args);
        await _host.StartAsync();

        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            ?? throw new InvalidOperationException("The server reports no address.");
        _client = new HttpClient { BaseAddress = new Uri(addresses.First()), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_host is not null)
        {
            await _host.StopAsync();
            if (_host is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else
            {
                _host.Dispose();
            }
        }

        // Pooled connections keep the database files open.
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is no reason to fail a test run.
        }
    }

    private static async Task<string> PostgresDatabaseAsync()
    {
        var server = await PostgresServer.GetAsync();
        return server.ConnectionString(await server.CreateDatabaseAsync());
    }

    /// <summary>A fresh database context on the app's database, for checking what was stored.</summary>
    public Task<ToDoDbContext> CreateDbContextAsync() =>
        Services.GetRequiredService<IDbContextFactory<ToDoDbContext>>().CreateDbContextAsync();
}

/// <summary>The app with the seed's switch off: <c>Events:events.todo.itemsaved:Publish=false</c>.</summary>
public sealed class ItemSavedSwitchedOffFixture : TodoAppFixture
{
    protected override IEnumerable<string> Settings => ["--Events:events.todo.itemsaved:Publish=false"];
}

/// <summary>The same app on a fresh database of the test run's PostgreSQL; a class using it joins <c>[Collection(PostgresCollection.Name)]</c>.</summary>
public sealed class PostgresTodoAppFixture() : TodoAppFixture(DatabaseProvider.Postgres);
