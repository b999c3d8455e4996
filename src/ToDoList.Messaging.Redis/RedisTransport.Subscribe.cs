using System.Text;
using StackExchange.Redis;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Redis;

public sealed partial class RedisTransport
{
    public async ValueTask<ITransportSubscription> SubscribeAsync(SubscriptionRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Subjects.ValidateSubscribe(request.Subject);
        if (request.Durable)
        {
            if (string.IsNullOrWhiteSpace(request.QueueGroup))
            {
                throw new ArgumentException("A durable subscription needs a queue group, which names its consumer group.", nameof(request));
            }

            var stream = await EnsureDurableGroupAsync(new DurableGroupRequest(request.Subject, request.QueueGroup, request.AckWait), cancellationToken).ConfigureAwait(false);
            var durable = new DurableSubscription(this, request, stream);
            Track(durable);
            try
            {
                await durable.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // E.g. NOPERM: a user that may not read the group's stream or hear its wake-up channel.
                await durable.DisposeAsync().ConfigureAwait(false);
                throw Failure($"Could not join durable group '{request.QueueGroup}' on '{request.Subject}'", e);
            }

            return durable;
        }

        var channel = Subjects.HasWildcards(request.Subject) ? RedisChannel.Pattern(GlobOf(request.Subject)) : RedisChannel.Literal(request.Subject);
        ChannelMessageQueue queue;
        try
        {
            // Returns once the server confirmed the subscription: nothing published after it is missed.
            queue = await Subscriber.SubscribeAsync(channel).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw Failure($"Could not subscribe to '{request.Subject}'", e);
        }

        var core = new CoreSubscription(this, request, queue);
        Track(core);
        try
        {
            await core.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            await core.DisposeAsync().ConfigureAwait(false);
            throw Failure($"Could not join queue group '{request.QueueGroup}' on '{request.Subject}'", e);
        }

        return core;
    }

    public async ValueTask DeclareDurableGroupAsync(DurableGroupRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Subjects.ValidateSubscribe(request.Subject);
        await EnsureDurableGroupAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A NATS pattern as a Redis glob: literal characters escaped, <c>*</c> as <c>*</c>, a final <c>&gt;</c> as
    /// <c>*</c>. Redis's <c>*</c> also crosses dots, so deliveries are filtered with <see cref="Subjects.Matches"/>.
    /// </summary>
    internal static string GlobOf(string pattern)
    {
        var glob = new StringBuilder(pattern.Length + 8);
        foreach (var token in pattern.Split('.'))
        {
            if (glob.Length > 0)
            {
                glob.Append('.');
            }

            if (token is "*" or ">")
            {
                glob.Append('*');
                continue;
            }

            foreach (var c in token)
            {
                if (c is '*' or '?' or '[' or ']' or '\\')
                {
                    glob.Append('\\');
                }

                glob.Append(c);
            }
        }

        return glob.ToString();
    }

    /// <summary>The durable group's consumer group and registry entry, made if missing; its stream's key.</summary>
    private async Task<string> EnsureDurableGroupAsync(DurableGroupRequest group, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(group.Group))
        {
            throw new ArgumentException("A durable group needs a name, which names its consumer group.", nameof(group));
        }

        var stream = StreamPrefix + group.Subject;
        RedisResult bound;
        try
        {
            bound = await Scripts.DeclareGroup.EvaluateAsync(Database, [GroupsKey, PatternsKey, stream], [group.Group, group.Subject])
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw Failure($"Could not set up the durable group '{group.Group}' on '{group.Subject}'", e);
        }

        var boundTo = (string?)bound;
        if (!string.IsNullOrEmpty(boundTo))
        {
            throw new TransportException($"The durable group '{group.Group}' is bound to '{boundTo}', not '{group.Subject}' (Redis {SafeUrl}, registry {GroupsKey}).");
        }

        Log.DurableReady(_logger, group.Group, group.Subject, stream);
        return stream;
    }
}
