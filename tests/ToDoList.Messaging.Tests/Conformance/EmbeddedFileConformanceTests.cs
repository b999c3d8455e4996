using ToDoList.Messaging.Embedded;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests.Conformance;

/// <summary>The conformance suite on the in-process transport with its queue file (<c>embedded://</c>, the all-in-one default).</summary>
public sealed class EmbeddedFileConformanceTests : TransportConformanceTests
{
    protected override bool PublisherWaitsForFullSubscriber => true;

    protected override ITransportFixture CreateFixture() => new EmbeddedFileBroker();

    /// <summary>All connections of a test share one transport on a queue file of the test's own.</summary>
    private sealed class EmbeddedFileBroker : ITransportFixture
    {
        private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("todo-embedded-");
        private readonly EmbeddedTransport _transport;

        public EmbeddedFileBroker() => _transport = new("embedded", new EmbeddedOptions
        {
            FilePath = Path.Combine(_directory.FullName, "queue.db"),
            // Checked often so that ack-wait tests take milliseconds, not the default second.
            AckWaitCheckInterval = TimeSpan.FromMilliseconds(20),
        });

        public Task<ITransport> ConnectAsync() => Task.FromResult<ITransport>(new SharedTransportConnection(_transport));

        public async ValueTask DisposeAsync()
        {
            await _transport.DisposeAsync();
            _directory.Delete(recursive: true);
        }
    }
}
