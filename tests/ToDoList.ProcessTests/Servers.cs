using System.Diagnostics;
using NATS.Client.Core;
using NATS.Client.JetStream;
using ToDoList.Messaging.Tests.Servers;

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

/// <summary>The message queues a deployment can run on (<c>MessageQueue__Url</c>).</summary>
public enum QueueKind
{
    Nats,
    Redis,
    RabbitMq,
}

/// <summary>
/// The run's nats-server and PostgreSQL cluster, and the published app the deployments run; a redis-server and
/// a RabbitMQ broker (7–9 s to start) only once a scenario on them asks, then kept for the run.
/// </summary>
public sealed class Servers : IAsyncLifetime
{
    /// <summary>The durable groups the app declares on RabbitMQ: a queue each, and its <c>.subject</c> queue.</summary>
    private static readonly string[] AppGroups = ["save-handler", "audit-handler", "deadletters"];
    private static readonly TimeSpan ToolDeadline = TimeSpan.FromSeconds(30);

    private NatsServer? _nats;
    private PostgresServer? _postgres;
    private Task<RedisServer>? _redis;
    private Task<RabbitMqServer>? _rabbitMq;

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

    /// <summary>The run's redis-server, started by the first caller.</summary>
    public Task<RedisServer> RedisAsync() => _redis ??= RedisServer.GetSharedAsync();

    /// <summary>The run's RabbitMQ broker, started by the first caller.</summary>
    public Task<RabbitMqServer> RabbitMqAsync() => _rabbitMq ??= RabbitMqServer.GetSharedAsync();

    public async Task DisposeAsync()
    {
        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }

        // Both also stop when the test process exits; disposing twice does nothing.
        if (_redis is { IsCompletedSuccessfully: true })
        {
            await (await _redis).DisposeAsync();
        }

        if (_rabbitMq is { IsCompletedSuccessfully: true })
        {
            await (await _rabbitMq).DisposeAsync();
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

    /// <summary>
    /// The URL of <paramref name="queue"/> with no durable message a former scenario left (its streams, or the
    /// app's queues, deleted), as on a fresh server.
    /// </summary>
    public async Task<string> FreshQueueUrlAsync(QueueKind queue)
    {
        switch (queue)
        {
            case QueueKind.Nats:
                await ForgetDurableMessagesAsync();
                return Nats.Url;
            case QueueKind.Redis:
                var redis = await RedisAsync();
                using (var flush = redis.StartCli("FLUSHALL"))
                {
                    var (exitCode, output) = await RunToEndAsync(flush);
                    Assert.True(exitCode == 0 && output.Contains("OK", StringComparison.Ordinal), $"redis-cli FLUSHALL exited {exitCode}: {output}");
                }

                return redis.Url;
            case QueueKind.RabbitMq:
                var rabbitMq = await RabbitMqAsync();
                foreach (var name in AppGroups.SelectMany(g => new[] { g, g + ".subject" }))
                {
                    var (exitCode, output) = await RunToolAsync("amqp-delete-queue", "-u", rabbitMq.ToolUrl, "-q", name);
                    Assert.True(exitCode == 0, $"amqp-delete-queue -q {name} exited {exitCode}: {output}");
                }

                return rabbitMq.Url;
            default:
                throw new ArgumentOutOfRangeException(nameof(queue), queue, null);
        }
    }

    /// <summary>Runs a broker's own command-line tool to its end (killed by its process past a deadline): its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToolAsync(string tool, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException($"{tool} did not start.");
        return await RunToEndAsync(process);
    }

    private static async Task<(int ExitCode, string Output)> RunToEndAsync(Process process)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(ToolDeadline);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{process.StartInfo.FileName} did not end within {ToolDeadline.TotalSeconds:0} s.");
        }

        return (process.ExitCode, (await stdout + await stderr).Trim());
    }
}
