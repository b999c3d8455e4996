using ToDoList.Messaging;
using ToDoList.Messaging.Embedded;
using ToDoList.Messaging.Nats;
using ToDoList.Messaging.RabbitMq;
using ToDoList.Messaging.Redis;
using ToDoList.Messaging.Tests.Servers;
using ToDoList.Messaging.Transport;
using ToDoList.TestSupport;

namespace ToDoList.Bench;

/// <summary>
/// The transports a scenario runs on: with <c>--url</c> that one; else the embedded one and a nats-server,
/// redis-server and rabbitmq-server this run starts on free loopback ports (stopped at the end).
/// </summary>
internal sealed class Brokers(string? url) : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _started = [];

    public async Task<IReadOnlyList<string>> UrlsAsync(params string[] schemes)
    {
        if (url is not null)
        {
            return schemes.Contains(TransportUrl.Parse(url).Scheme) ? [url] : [];
        }

        var urls = new List<string>();
        foreach (var scheme in schemes)
        {
            urls.Add(scheme switch
            {
                "memory" => "memory://",
                "nats" => (await Started(() => NatsServer.StartAsync())).Url,
                "redis" => (await Started(() => RedisServer.StartAsync())).Url,
                "amqp" => (await Started(() => RabbitMqServer.StartAsync())).Url,
                _ => throw new ArgumentException(scheme),
            });
        }

        return urls;
    }

    /// <summary>A bus on a transport of its own, connected, as another process would have.</summary>
    public static async Task<MessageBus> ConnectAsync(string url)
    {
        var parsed = TransportUrl.Parse(url);
        ITransport transport = parsed.Scheme switch
        {
            "memory" => new EmbeddedTransport(),
            "nats" => new NatsTransport(parsed),
            "redis" => new RedisTransport(parsed),
            "amqp" => new RabbitMqTransport(parsed),
            _ => throw new ArgumentException($"No transport for {parsed}"),
        };
        var bus = new MessageBus(transport);
        await bus.ConnectAsync();
        return bus;
    }

    public static string NameOf(string url) => TransportUrl.Parse(url).Scheme;

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _started)
        {
            await server.DisposeAsync();
        }
    }

    private async Task<T> Started<T>(Func<Task<T>> start) where T : IAsyncDisposable
    {
        // One server per kind and run.
        var existing = _started.OfType<T>().FirstOrDefault();
        if (existing is not null)
        {
            return existing;
        }

        var server = await start();
        _started.Add(server);
        return server;
    }
}
