using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ToDoList.Messaging.Diagnostics;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging;

/// <summary>Handles one message. Throwing means "try again later"; after the last try the message becomes a dead letter.</summary>
public delegate ValueTask MessageHandler(MessageContext context, CancellationToken cancellationToken);

/// <summary>
/// Handles the messages that arrived together, up to <see cref="SubscribeOptions.MaxBatch"/>, in one go (one database
/// statement for all). Returning acknowledges them all; throwing hands each back to the handler alone, so one bad
/// message is retried and dead-lettered by itself while the others go through.
/// </summary>
public delegate ValueTask BatchHandler(IReadOnlyList<MessageContext> batch, CancellationToken cancellationToken);

public sealed partial class MessageBus
{
    private static readonly TimeSpan DefaultAckWait = new SubscribeOptions().AckWait;

    /// <summary>Subscribes a handler of raw messages. Dispose the result to unsubscribe.</summary>
    public ValueTask<Subscription> SubscribeAsync(string subject, MessageHandler handler, SubscribeOptions? options = null, CancellationToken cancellationToken = default) =>
        SubscribeAsync(subject, handler, batchHandler: null, options, cancellationToken);

    /// <summary>
    /// Subscribes a handler of batches: what has arrived when it is free, up to <see cref="SubscribeOptions.MaxBatch"/> messages.
    /// A batch that fails is handed over again one message at a time, with the usual retries and dead letters.
    /// </summary>
    public ValueTask<Subscription> SubscribeBatchAsync(string subject, BatchHandler handler, SubscribeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThan((options ?? new SubscribeOptions()).MaxBatch, 1);
        return SubscribeAsync(subject, (context, ct) => handler([context], ct), handler, options, cancellationToken);
    }

    /// <summary>Subscribes a batch handler of JSON messages of type <typeparamref name="T"/>; data that is not one is a poison message, dead-lettered alone.</summary>
    public ValueTask<Subscription> SubscribeBatchAsync<T>(string subject, Func<IReadOnlyList<MessageContext<T>>, CancellationToken, ValueTask> handler, SubscribeOptions? options = null, CancellationToken cancellationToken = default) =>
        SubscribeBatchAsync(subject, (batch, ct) => handler([.. batch.Select(c => new MessageContext<T>(c, c.Deserialize<T>()))], ct), options, cancellationToken);

    private async ValueTask<Subscription> SubscribeAsync(string subject, MessageHandler handler, BatchHandler? batchHandler, SubscribeOptions? options, CancellationToken cancellationToken)
    {
        options ??= new SubscribeOptions();
        Subjects.ValidateSubscribe(subject);
        if (options.Durable && string.IsNullOrWhiteSpace(options.QueueGroup))
        {
            throw new ArgumentException("A durable subscription needs a QueueGroup, which names it.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrency, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Capacity, 1);

        var request = new SubscriptionRequest(subject, options.QueueGroup, options.Durable, options.Capacity, options.AckWait);
        var transportSubscription = await Transport.SubscribeAsync(request, cancellationToken).ConfigureAwait(false);
        var subscription = new Subscription(this, transportSubscription, subject, options, handler, batchHandler);
        lock (_subscriptions)
        {
            _subscriptions.Add(subscription);
        }

        subscription.Start();
        return subscription;
    }

    /// <summary>
    /// Makes the durable group <paramref name="group"/> on <paramref name="subject"/> without joining it, so that it
    /// keeps every matching message published from now on, before any member ever ran, as a RabbitMQ app declares its
    /// queues. Idempotent; a group bound to another subject is refused with a <see cref="TransportException"/>.
    /// <paramref name="ackWait"/> is the one the group's members will subscribe with (default that of <see cref="SubscribeOptions"/>).
    /// </summary>
    public ValueTask DeclareDurableGroupAsync(string subject, string group, TimeSpan? ackWait = null, CancellationToken cancellationToken = default) =>
        DeclareDurableGroupsAsync([new DurableGroupRequest(subject, group, ackWait ?? DefaultAckWait)], cancellationToken);

    /// <summary>Declares several durable groups at once, as a process declares its whole topology at start (see <see cref="ITransport.DeclareDurableGroupsAsync"/>).</summary>
    public ValueTask DeclareDurableGroupsAsync(IReadOnlyList<DurableGroupRequest> groups, CancellationToken cancellationToken = default)
    {
        foreach (var group in groups)
        {
            Subjects.ValidateSubscribe(group.Subject);
            ArgumentException.ThrowIfNullOrWhiteSpace(group.Group);
        }

        return Transport.DeclareDurableGroupsAsync(groups, cancellationToken);
    }

    /// <summary>Subscribes a handler of JSON messages of type <typeparamref name="T"/>; data that is not one is a poison message.</summary>
    public ValueTask<Subscription> SubscribeAsync<T>(string subject, Func<MessageContext<T>, CancellationToken, ValueTask> handler, SubscribeOptions? options = null, CancellationToken cancellationToken = default) =>
        SubscribeAsync(subject, (context, ct) => handler(new MessageContext<T>(context, context.Deserialize<T>()), ct), options, cancellationToken);

    /// <summary>
    /// A batch in one call of the batch handler, acknowledged together after it returns; if it throws, each message
    /// goes through <see cref="ProcessAsync"/> alone (its own retries, its own dead letter).
    /// </summary>
    internal async ValueTask ProcessBatchAsync(Subscription subscription, List<Delivery> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 1)
        {
            await ProcessAsync(subscription, batch[0], cancellationToken).ConfigureAwait(false);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            var contexts = batch.Select(d => new MessageContext(this, d.Message, d.Attempt, subscription.Options.QueueGroup)).ToList();
            await subscription.BatchHandler!(contexts, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            foreach (var delivery in batch)
            {
                await NakAsync(delivery, TimeSpan.Zero).ConfigureAwait(false);
            }

            return;
        }
        catch (Exception exception)
        {
            // Which message failed is not known: each one alone now, so only the bad one is retried and dead-lettered.
            Log.BatchFailed(_logger, subscription.Subject, batch.Count, exception);
            foreach (var delivery in batch)
            {
                await ProcessAsync(subscription, delivery, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        Interlocked.Add(ref _handled, batch.Count);
        MessagingTelemetry.Consumed.Add(batch.Count);
        MessagingTelemetry.ProcessDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);

        // All at once: one after the other, each waiting for the transport, they took longer than the batch itself.
        var acks = new Task[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            acks[i] = AckAsync(batch[i]).AsTask();
        }

        await Task.WhenAll(acks).ConfigureAwait(false);
    }

    internal async ValueTask ProcessAsync(Subscription subscription, Delivery delivery, CancellationToken cancellationToken)
    {
        var retry = subscription.Options.Retry ?? Options.Retry;
        var attempt = delivery.Attempt;
        while (true)
        {
            var context = new MessageContext(this, delivery.Message, attempt, subscription.Options.QueueGroup);
            using var activity = MessagingTelemetry.StartProcess(delivery.Message, Transport.Name, subscription.Options.QueueGroup);
            var started = Stopwatch.GetTimestamp();
            try
            {
                await subscription.Handler(context, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Shutting down: a durable message comes again, to this process after restart or to another member.
                await NakAsync(delivery, TimeSpan.Zero).ConfigureAwait(false);
                return;
            }
            catch (Exception exception)
            {
                Interlocked.Increment(ref _failed);
                MessagingTelemetry.Failed.Add(1);
                activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
                var poison = exception is PoisonMessageException;
                var transient = !poison && retry.IsTransient?.Invoke(exception) == true;
                var maxDeliver = transient ? Math.Max(retry.MaxDeliver, retry.MaxTransientDeliver) : retry.MaxDeliver;
                if (poison || attempt >= maxDeliver)
                {
                    await DeadLetterAsync(subscription, delivery, attempt, exception).ConfigureAwait(false);
                    return;
                }

                var delay = retry.DelayAfter(attempt);
                Log.HandlerFailed(_logger, delivery.Message.Subject, delivery.Message.Id, attempt, maxDeliver, delay.TotalMilliseconds, exception);
                if (delivery.Acknowledgement is not null)
                {
                    await NakAsync(delivery, delay).ConfigureAwait(false);
                    return;
                }

                // At-most-once delivery: the transport will not bring it again, so this process tries again itself.
                try
                {
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                attempt++;
                continue;
            }

            Interlocked.Increment(ref _handled);
            MessagingTelemetry.Consumed.Add(1);
            MessagingTelemetry.ProcessDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);

            // Outside the handler's try: a failed acknowledgement is not a failed handler, to be tried again.
            await AckAsync(delivery).ConfigureAwait(false);
            return;
        }
    }

    private async ValueTask DeadLetterAsync(Subscription subscription, Delivery delivery, int attempt, Exception exception)
    {
        var message = delivery.Message;
        if (message.Subject.StartsWith(Subjects.DeadLetterPrefix, StringComparison.Ordinal))
        {
            // A dead letter of a dead letter would loop; the log keeps it.
            Log.DeadLetterHandlerFailed(_logger, message.Subject, message.Id, exception);
            await AckAsync(delivery).ConfigureAwait(false);
            return;
        }

        var headers = message.HasHeaders ? message.Headers.Clone() : new MessageHeaders();
        // One line: header values cannot carry line breaks on NATS and other header-based transports.
        headers[MessagingHeaders.DeadLetterId] = Nuid.Next();
        headers[MessagingHeaders.DeadLetterError] = Truncate($"{exception.GetType().Name}: {exception.Message}".ReplaceLineEndings(" "), 1000);
        headers[MessagingHeaders.DeadLetterGroup] = subscription.Options.QueueGroup ?? "";
        headers[MessagingHeaders.DeadLetterAttempts] = attempt.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers[MessagingHeaders.DeadLetterSubject] = message.Subject;
        headers[MessagingHeaders.DeadLetterTime] = _time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            await PublishAsync(new Message(Subjects.DeadLetterOf(message.Subject), message.Data, headers), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception publishError)
        {
            // The dead letter could not be kept: leave the message with the transport rather than lose it.
            Log.DeadLetterPublishFailed(_logger, message.Subject, message.Id, publishError);
            await NakAsync(delivery, Options.Retry.MaxDelay).ConfigureAwait(false);
            return;
        }

        Interlocked.Increment(ref _deadLettered);
        MessagingTelemetry.DeadLettered.Add(1);
        Log.DeadLettered(_logger, message.Subject, message.Id, attempt, subscription.Options.QueueGroup, exception);
        await AckAsync(delivery).ConfigureAwait(false);
    }

    // A transport that cannot settle a delivery (its connection dropped) delivers it again on its own:
    // log it and go on, so that one lost acknowledgement never stops the subscription.
    private async ValueTask AckAsync(Delivery delivery)
    {
        try
        {
            if (delivery.Acknowledgement is { } ack)
            {
                await ack.AckAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            Log.SettleFailed(_logger, "acknowledge", delivery.Message.Subject, delivery.Message.Id, exception);
        }
    }

    private async ValueTask NakAsync(Delivery delivery, TimeSpan delay)
    {
        try
        {
            if (delivery.Acknowledgement is { } ack)
            {
                await ack.NakAsync(delay, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            Log.SettleFailed(_logger, "give back", delivery.Message.Subject, delivery.Message.Id, exception);
        }
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}
