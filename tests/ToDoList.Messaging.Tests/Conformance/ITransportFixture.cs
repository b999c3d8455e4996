using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests.Conformance;

/// <summary>
/// The broker one conformance test talks to. Each <see cref="ConnectAsync"/> is one more client
/// of the same broker, as a separate process would open, so a test can run a publisher and
/// several consumers side by side. Disposing a connection is that process going away.
/// </summary>
public interface ITransportFixture : IAsyncDisposable
{
    /// <summary>A new connected transport to the shared broker.</summary>
    Task<ITransport> ConnectAsync();
}
