using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace ToDoList.Messaging.Nats;

public sealed partial class NatsTransport
{
    // A stream that is starting (after a server restart) answers "no responders" for a moment.
    private static readonly NatsJSPubOpts JetStreamPublish = new() { RetryAttempts = 4, RetryWaitBetweenAttempts = TimeSpan.FromMilliseconds(250) };

    /// <summary>
    /// A subject no stream captures: a plain NATS publish (at-most-once), its reply subject NATS's own,
    /// so the server answers no-responders. A subject a stream captures: through JetStream, returning
    /// once the stream acknowledged it; the reply subject then travels in the <c>reply-to</c> header.
    /// </summary>
    public async ValueTask PublishAsync(Message message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var publisher = _publisher ?? throw new TransportException($"The NATS transport to {SafeUrl} is not connected: call ConnectAsync first.");
        var headers = NatsMessages.ToNatsHeaders(message);
        var stream = await _streams!.StreamOfAsync(message.Subject, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            try
            {
                await publisher.PublishAsync(message.Subject, message.Data, headers, message.ReplyTo, NatsMessages.Raw, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (NatsException e)
            {
                throw new TransportException($"NATS at {SafeUrl} refused the message on '{message.Subject}': {e.Message}", e);
            }

            return;
        }

        headers ??= new NatsHeaders();
        headers[NatsMessages.ReplyToHeader] = message.ReplyTo ?? "";
        PubAckResponse ack;
        var refusal = _permissionViolations.WatchPublish(message.Subject);
        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, refusal.Token) : null;
        try
        {
            ack = await _jetStream!.PublishAsync(message.Subject, message.Data, NatsMessages.Raw, JetStreamPublish, headers, linked?.Token ?? refusal.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (refusal.Error is { } error && !cancellationToken.IsCancellationRequested)
        {
            // The server will never acknowledge it: say why now rather than after the acknowledgement's timeout.
            throw new TransportException($"NATS at {SafeUrl} refused the message on '{message.Subject}': the user of this connection may not publish there ({error}). It is not kept.", e);
        }
        catch (NatsJSPublishNoResponseException e)
        {
            // The stream is gone or not running: ask again next time which stream captures the subject.
            _streams.Forget();
            throw new TransportException($"Stream {stream} on NATS at {SafeUrl} did not acknowledge the message on '{message.Subject}'; it may not be kept.", e);
        }
        catch (NatsJSApiException e)
        {
            throw new TransportException($"Stream {stream} on NATS at {SafeUrl} refused the message on '{message.Subject}': {e.Error.Description} ({e.Error.ErrCode}).", e);
        }
        catch (NatsException e)
        {
            throw new TransportException($"The message on '{message.Subject}' was not acknowledged by stream {stream} on NATS at {SafeUrl}; it may not be kept: {e.Message}", e);
        }

        if (!ack.IsSuccess())
        {
            throw new TransportException($"Stream {stream} on NATS at {SafeUrl} refused the message on '{message.Subject}': {ack.Error?.Description}.");
        }
    }
}
