using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.RabbitMq;

public sealed partial class RabbitMqTransport
{
    private const int PreconditionFailed = 406;

    public async ValueTask<ITransportSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var channel = await ConsumerConnection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            // Made again by the same code should the broker cancel the consumer (its queue deleted).
            Task<string> Declare(CancellationToken ct) => DeclareQueueAsync(channel, request, ct);
            var queue = await Declare(cancellationToken).ConfigureAwait(false);

            // The broker sends at most Capacity unacknowledged messages: the rest wait in the queue (back-pressure).
            var prefetch = (ushort)Math.Clamp(request.Capacity, 1, ushort.MaxValue);
            await channel.BasicQosAsync(0, prefetch, global: false, cancellationToken).ConfigureAwait(false);
            var subscription = new QueueSubscription(this, channel, request, queue, Declare);
            var consumerTag = await channel.BasicConsumeAsync(queue, autoAck: false, consumerTag: "", noLocal: false, exclusive: false, arguments: null, subscription, cancellationToken).ConfigureAwait(false);
            subscription.Start(consumerTag);
            _subscriptions.TryAdd(subscription, 0);
            if (request.Durable)
            {
                Log.DurableReady(_logger, request.QueueGroup!, request.Subject, queue);
            }

            return subscription;
        }
        catch
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The queue a subscription consumes: the durable group's, the queue group's shared one, or an exclusive one of its own.</summary>
    private async Task<string> DeclareQueueAsync(IChannel channel, SubscriptionRequest request, CancellationToken cancellationToken)
    {
        if (request.Durable)
        {
            var durableGroup = request.QueueGroup ?? throw new ArgumentException("A durable subscription needs a queue group: the group's durable queue is named after it.", nameof(request));
            return await DeclareDurableQueueAsync(request.Subject, durableGroup, cancellationToken).ConfigureAwait(false);
        }

        string queue;
        if (request.QueueGroup is { } group)
        {
            // Shared by the group's members, gone with the last of them (or unused for a minute).
            queue = AmqpMessages.GroupQueueOf(group, request.Subject);
            await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: true, arguments: new Dictionary<string, object?> { ["x-expires"] = 60_000 }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var declared = await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            queue = declared.QueueName;
        }

        await channel.QueueBindAsync(queue, _options.Exchange, AmqpMessages.BindingKeyOf(request.Subject), cancellationToken: cancellationToken).ConfigureAwait(false);
        return queue;
    }

    public async ValueTask DeclareDurableGroupAsync(DurableGroupRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Subjects.ValidateSubscribe(request.Subject);
        await DeclareDurableQueueAsync(request.Subject, request.Group, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The group's durable queue, bound to the exchange with the subject. The subject is also the
    /// queue's dead-letter routing key (<c>deadletter.&lt;subject&gt;</c>, where the broker sends what
    /// it rejects), an argument the broker compares on every declaration: a group declared for
    /// another subject is refused by the broker itself. AMQP cannot read a queue's arguments back and
    /// the broker cuts its error text at 255 bytes, so the subject is also kept as the one message of
    /// a small queue beside it, read only to say which subject the group follows.
    /// </summary>
    private async Task<string> DeclareDurableQueueAsync(string subject, string group, CancellationToken cancellationToken)
    {
        var queue = AmqpMessages.DurableQueueOf(group);
        var subjectQueue = AmqpMessages.SubjectQueueOf(queue);
        var arguments = new Dictionary<string, object?>
        {
            ["x-dead-letter-exchange"] = _options.Exchange,
            ["x-dead-letter-routing-key"] = Subjects.DeadLetterOf(subject),
        };
        try
        {
            await DeclareAsync(
                async channel =>
                {
                    await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
                    await channel.QueueBindAsync(queue, _options.Exchange, AmqpMessages.BindingKeyOf(subject), cancellationToken: cancellationToken).ConfigureAwait(false);
                    var keepOne = new Dictionary<string, object?> { ["x-max-length"] = 1, ["x-overflow"] = "drop-head" };
                    await channel.QueueDeclareAsync(subjectQueue, durable: true, exclusive: false, autoDelete: false, keepOne, cancellationToken: cancellationToken).ConfigureAwait(false);
                    var properties = new RabbitMQ.Client.BasicProperties { DeliveryMode = DeliveryModes.Persistent };
                    await channel.BasicPublishAsync("", subjectQueue, mandatory: false, properties, System.Text.Encoding.UTF8.GetBytes(subject), cancellationToken).ConfigureAwait(false);
                },
                ConsumerConnection,
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == PreconditionFailed)
        {
            var current = await FollowedSubjectAsync(subjectQueue, cancellationToken).ConfigureAwait(false);
            throw new TransportException(current is not null
                ? $"The durable group '{group}' (queue '{queue}') follows '{current}', not '{subject}': use another group name, or delete the queue."
                : $"The durable group '{group}' exists as queue '{queue}' with other settings than this transport makes for '{subject}': {e.ShutdownReason.ReplyText}", e);
        }

        _durableGroups[queue] = (group, subject);
        return queue;
    }

    /// <summary>The subject a durable group was declared with, read without taking it (the closing channel puts it back).</summary>
    private async Task<string?> FollowedSubjectAsync(string subjectQueue, CancellationToken cancellationToken)
    {
        string? subject = null;
        try
        {
            await DeclareAsync(
                async channel =>
                {
                    var kept = await channel.BasicGetAsync(subjectQueue, autoAck: false, cancellationToken).ConfigureAwait(false);
                    subject = kept is null ? null : System.Text.Encoding.UTF8.GetString(kept.Body.Span);
                },
                ConsumerConnection,
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException)
        {
            // Declared by another tool (no such queue): the error says what the broker said.
        }

        return subject;
    }

    /// <summary>Declarations on a channel of their own: a refused one (406) closes its channel, never a consumer's.</summary>
    private static async Task DeclareAsync(Func<IChannel, Task> declare, IConnection connection, CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            await declare(channel).ConfigureAwait(false);
            await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await channel.DisposeAsync().ConfigureAwait(false);
        }
    }
}
