using ToDoList.Messaging.Nats;
using ToDoList.Messaging.Transport;
using ToDoList.TestSupport;

namespace ToDoList.Messaging.Tests.Conformance;

/// <summary>The conformance suite on NATS (core NATS and JetStream), against the run's real nats-server.</summary>
public sealed class NatsConformanceTests : TransportConformanceTests
{
    // NATS answers a request nobody listens to with a 503 status at once.
    protected override bool ReportsNoResponders => true;

    // The server buffers for a slow subscriber (and cuts it off past max_pending, logged): the publisher never waits.
    protected override bool PublisherWaitsForFullSubscriber => false;

    protected override ITransportFixture CreateFixture() => new NatsBroker();

    /// <summary>Each connection is a transport of its own to the shared server, as a separate process would open.</summary>
    private sealed class NatsBroker : ITransportFixture
    {
        public async Task<ITransport> ConnectAsync()
        {
            var server = await NatsServer.GetSharedAsync();
            return new NatsTransport(TransportUrl.Parse(server.Url), new NatsTransportOptions { MonitorUrl = $"http://127.0.0.1:{server.MonitorPort}" });
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
