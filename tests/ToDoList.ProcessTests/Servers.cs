using NATS.Client.Core;
using NATS.Client.JetStream;

namespace ToDoList.ProcessTests;

/// <summary>
/// The process tests run one after another (2 cores: several deployments at once only fight) on the run's
/// servers, started once: a nats-server with JetStream and a PostgreSQL cluster.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProcessCollection : ICollectionFixture<Servers>
{
    public const string Name = "todo processes on NATS and PostgreSQL";
}

/// <summary>The run's nats-server and PostgreSQL cluster, and the published app the deployments run.</summary>
public sealed class Servers : IAsyncLifetime
{
    private NatsServer? _nats;
    private PostgresServer? _postgres;

    public NatsServer Nats => _nats ?? throw new InvalidOperationException("Not started.");

    public PostgresServer Postgres => _postgres ?? throw new InvalidOperationException("Not started.");

    /// <summary>The folder holding the published todo.dll.</summary>
    public string AppDir { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var nats = NatsServer.StartAsync();
        var postgres = PostgresServer.GetAsync();
        var app = PublishedApp.DirectoryAsync();
        try
        {
            (_nats, _postgres, AppDir) = (await nats, await postgres, await app);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }

        await PostgresServer.StopAsync();
    }

    /// <summary>A connection string (trusted login) to a new, empty database.</summary>
    public async Task<string> NewDatabaseAsync() => Postgres.ConnectionString(await Postgres.CreateDatabaseAsync("process"));

    /// <summary>
    /// Deletes every JetStream stream, with the durable groups on them, so that a scenario starts as on a fresh
    /// server: nothing a former scenario left unacknowledged (a killed handler's messages) reaches this one's database.
    /// </summary>
    public async Task ForgetDurableMessagesAsync()
    {
        await using var nats = new NatsConnection(NatsOpts.Default with { Url = Nats.Url, Name = "process-tests" });
        var jetStream = new NatsJSContext(nats);
        var streams = new List<string>();
        await foreach (var stream in jetStream.ListStreamNamesAsync())
        {
            streams.Add(stream);
        }

        foreach (var stream in streams)
        {
            await jetStream.DeleteStreamAsync(stream);
        }
    }
}
