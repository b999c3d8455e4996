using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests.Conformance;

/// <summary>
/// One process's connection to a transport shared by all connections of a test (an in-process
/// broker). Disposing it ends the subscriptions it opened, as a process exit would, and leaves
/// the shared transport running for the others.
/// </summary>
public sealed class SharedTransportConnection(ITransport broker) : ITransport, ITransportInspector
{
    private readonly List<ITransportSubscription> _subscriptions = [];
    private volatile bool _closed;

    public string Name => broker.Name;

    public bool IsConnected => !_closed && broker.IsConnected;

    public ValueTask ConnectAsync(CancellationToken cancellationToken) => broker.ConnectAsync(cancellationToken);

    public ValueTask PublishAsync(Message message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        return broker.PublishAsync(message, cancellationToken);
    }

    public async ValueTask<ITransportSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        var subscription = await broker.SubscribeAsync(request, cancellationToken).ConfigureAwait(false);
        lock (_subscriptions)
        {
            _subscriptions.Add(subscription);
        }

        return subscription;
    }

    public ValueTask DeclareDurableGroupAsync(DurableGroupRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        return broker.DeclareDurableGroupAsync(request, cancellationToken);
    }

    public ValueTask<Diagnostics.BrokerView> InspectAsync(CancellationToken cancellationToken) =>
        ((ITransportInspector)broker).InspectAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        ITransportSubscription[] subscriptions;
        lock (_subscriptions)
        {
            _closed = true;
            subscriptions = [.. _subscriptions];
            _subscriptions.Clear();
        }

        foreach (var subscription in subscriptions)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }
}
