using System.Threading.Channels;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests;

/// <summary>Wraps a transport so that settling a delivery fails, as when the broker connection drops.</summary>
public sealed class FailingAcknowledgementTransport(ITransport inner) : ITransport
{
    public string Name => inner.Name;

    public bool IsConnected => inner.IsConnected;

    public ValueTask ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public ValueTask PublishAsync(Message message, CancellationToken cancellationToken) => inner.PublishAsync(message, cancellationToken);

    public async ValueTask<ITransportSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken) =>
        new Subscription(await inner.SubscribeAsync(request, cancellationToken));

    public ValueTask DeclareDurableGroupAsync(DurableGroupRequest request, CancellationToken cancellationToken) => inner.DeclareDurableGroupAsync(request, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private sealed class Subscription(ITransportSubscription inner) : ChannelReader<Delivery>, ITransportSubscription
    {
        public ChannelReader<Delivery> Deliveries => this;

        public override bool TryRead(out Delivery item)
        {
            if (inner.Deliveries.TryRead(out var delivery))
            {
                item = delivery.Acknowledgement is null ? delivery : delivery with { Acknowledgement = new Failing() };
                return true;
            }

            item = default;
            return false;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => inner.Deliveries.WaitToReadAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class Failing : IAcknowledgement
    {
        public ValueTask AckAsync(CancellationToken cancellationToken = default) => throw new IOException("connection lost");

        public ValueTask NakAsync(TimeSpan delay, CancellationToken cancellationToken = default) => throw new IOException("connection lost");
    }
}
