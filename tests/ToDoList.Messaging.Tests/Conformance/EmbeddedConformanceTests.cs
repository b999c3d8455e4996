using ToDoList.Messaging.Embedded;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests.Conformance;

/// <summary>The conformance suite on the in-process transport (<c>memory://</c>).</summary>
public sealed class EmbeddedConformanceTests : TransportConformanceTests
{
    protected override bool PublisherWaitsForFullSubscriber => true;

    protected override ITransportFixture CreateFixture() => new EmbeddedBroker();

    /// <summary>All connections of a test share one transport, as processes share a broker.</summary>
    private sealed class EmbeddedBroker : ITransportFixture
    {
        // Checked often so that ack-wait tests take milliseconds, not the default second.
        private readonly EmbeddedTransport _transport = new("memory", new EmbeddedOptions { AckWaitCheckInterval = TimeSpan.FromMilliseconds(20) });

        public Task<ITransport> ConnectAsync() => Task.FromResult<ITransport>(new SharedTransportConnection(_transport));

        public ValueTask DisposeAsync() => _transport.DisposeAsync();
    }
}
