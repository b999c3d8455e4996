using ToDoList.Messaging.Redis;
using ToDoList.Messaging.Tests.Servers;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests.Conformance;

/// <summary>The conformance suite on Redis (pub/sub and Streams), against the run's real redis-server.</summary>
public sealed class RedisConformanceTests : TransportConformanceTests
{
    // PUBLISH counts its receivers: none (and no durable group stores it) → the 503 status at once.
    protected override bool ReportsNoResponders => true;

    // The client reads every pub/sub message off the socket into its own queue: the publisher never waits.
    protected override bool PublisherWaitsForFullSubscriber => false;

    protected override ITransportFixture CreateFixture() => new RedisBroker();

    /// <summary>Each connection is a transport of its own to the shared server, as a separate process would open.</summary>
    private sealed class RedisBroker : ITransportFixture
    {
        public async Task<ITransport> ConnectAsync()
        {
            var server = await RedisServer.GetSharedAsync();
            return new RedisTransport(TransportUrl.Parse(server.Url));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
