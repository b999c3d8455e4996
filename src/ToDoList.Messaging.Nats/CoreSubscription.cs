using NATS.Client.Core;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Nats;

/// <summary>
/// A plain or queue-group subscription: the NATS subscription's own bounded channel, read as
/// deliveries with no second buffer. When it is full the client stops reading (never a silent drop).
/// </summary>
internal sealed class CoreSubscription(INatsSub<ReadOnlyMemory<byte>> subscription) : ChannelReader<Delivery>, ITransportSubscription
{
    private readonly ChannelReader<NatsMsg<ReadOnlyMemory<byte>>> _messages = subscription.Msgs;

    public ChannelReader<Delivery> Deliveries => this;

    public override Task Completion => _messages.Completion;

    public override bool TryRead(out Delivery item)
    {
        if (_messages.TryRead(out var msg))
        {
            item = new Delivery(NatsMessages.ToMessage(msg.Subject, msg.ReplyTo, msg.Headers, msg.Data, msg.HasNoResponders));
            return true;
        }

        item = default;
        return false;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => _messages.WaitToReadAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The connection closed first: the subscription ended with it.
        }
    }
}
