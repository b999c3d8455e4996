using System.Collections.Concurrent;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging;

public sealed partial class MessageBus
{
    private readonly string _inboxPrefix = Subjects.InboxPrefix + Nuid.Next() + ".";
    private readonly ConcurrentDictionary<string, Channel<Message>> _pendingReplies = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _inboxGate = new(1, 1);
    private ITransportSubscription? _inbox;
    private Task? _inboxLoop;

    /// <summary>
    /// Sends a request and waits for the first reply. Throws <see cref="NoRespondersException"/> at
    /// once where the transport can tell nobody listens, else <see cref="RequestTimeoutException"/>.
    /// </summary>
    public async Task<Message> RequestAsync(Message request, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var wait = timeout ?? Options.RequestTimeout;
        var (replyTo, replies) = await OpenReplyAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(wait);
            await PublishAsync(request.WithSubject(request.Subject, replyTo), deadline.Token).ConfigureAwait(false);
            var reply = await replies.Reader.ReadAsync(deadline.Token).ConfigureAwait(false);
            if (IsNoResponders(reply))
            {
                throw new NoRespondersException(request.Subject);
            }

            return reply;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RequestTimeoutException(request.Subject, wait);
        }
        finally
        {
            _pendingReplies.TryRemove(replyTo, out _);
        }
    }

    /// <summary>Sends a typed request as JSON and waits for the first reply.</summary>
    public Task<Message> RequestAsync<T>(string subject, T data, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RequestAsync(CreateMessage(subject, data), timeout, cancellationToken);

    /// <summary>
    /// Scatter-gather: sends one request and collects every responder's reply until the window
    /// closes or <see cref="GatherOptions.MaxReplies"/> came. No responders gives an empty list.
    /// </summary>
    public async Task<IReadOnlyList<Message>> GatherAsync(Message request, GatherOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new GatherOptions();
        var (replyTo, replies) = await OpenReplyAsync(cancellationToken).ConfigureAwait(false);
        var collected = new List<Message>();
        try
        {
            using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            window.CancelAfter(options.Window);
            await PublishAsync(request.WithSubject(request.Subject, replyTo), window.Token).ConfigureAwait(false);
            while (collected.Count < (options.MaxReplies ?? int.MaxValue))
            {
                var reply = await replies.Reader.ReadAsync(window.Token).ConfigureAwait(false);
                if (IsNoResponders(reply))
                {
                    break;
                }

                collected.Add(reply);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The window closed: what came is the answer.
        }
        finally
        {
            _pendingReplies.TryRemove(replyTo, out _);
        }

        return collected;
    }

    private static bool IsNoResponders(Message reply) =>
        reply.HasHeaders && reply.Headers[MessagingHeaders.Status] == MessagingHeaders.NoRespondersStatus;

    private async ValueTask<(string ReplyTo, Channel<Message> Replies)> OpenReplyAsync(CancellationToken cancellationToken)
    {
        if (_inbox is null)
        {
            await _inboxGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_inbox is null)
                {
                    // One inbox subscription per bus; each request listens on its own subject below it.
                    var request = new SubscriptionRequest(_inboxPrefix + "*", null, false, 1024, TimeSpan.Zero);
                    var inbox = await Transport.SubscribeAsync(request, cancellationToken).ConfigureAwait(false);
                    _inboxLoop = RouteRepliesAsync(inbox.Deliveries);
                    _inbox = inbox;
                }
            }
            finally
            {
                _inboxGate.Release();
            }
        }

        var replyTo = _inboxPrefix + Nuid.Next();
        var replies = Channel.CreateUnbounded<Message>(new UnboundedChannelOptions { SingleReader = true });
        _pendingReplies[replyTo] = replies;
        return (replyTo, replies);
    }

    private async Task RouteRepliesAsync(ChannelReader<Delivery> deliveries)
    {
        await foreach (var delivery in deliveries.ReadAllAsync().ConfigureAwait(false))
        {
            // A reply after its request ended has nobody to go to.
            if (_pendingReplies.TryGetValue(delivery.Message.Subject, out var replies))
            {
                replies.Writer.TryWrite(delivery.Message);
            }
        }
    }
}
