using ToDoList.Messaging.RabbitMq;
using ToDoList.Messaging.Tests.Servers;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests.Conformance;

/// <summary>The conformance suite on RabbitMQ 3.10 (topic exchange, classic queues), against the run's real broker.</summary>
public sealed class RabbitMqConformanceTests : TransportConformanceTests
{
    // A request is published mandatory: the broker returns one no queue takes, and the transport answers 503 at once.
    protected override bool ReportsNoResponders => true;

    // The broker queues for a slow subscriber (its prefetch is the subscriber's capacity): the publisher never waits.
    protected override bool PublisherWaitsForFullSubscriber => false;

    // Without the management plugin AMQP tells a queue's ready and consumer counts, not who subscribes to what.
    protected override bool ShowsSubscribers => false;

    protected override ITransportFixture CreateFixture() => new RabbitMqBroker();

    /// <summary>Each connection is a transport of its own to the shared broker, as a separate process would open.</summary>
    private sealed class RabbitMqBroker : ITransportFixture
    {
        public async Task<ITransport> ConnectAsync()
        {
            var server = await RabbitMqServer.GetSharedAsync();
            return new RabbitMqTransport(TransportUrl.Parse(server.Url));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
