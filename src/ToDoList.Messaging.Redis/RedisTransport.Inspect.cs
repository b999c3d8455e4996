using StackExchange.Redis;
using ToDoList.Messaging.Diagnostics;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Redis;

/// <summary>What the Redis server sees: <c>CLIENT LIST</c>, <c>PUBSUB CHANNELS</c>/<c>NUMSUB</c>/<c>NUMPAT</c>, and <c>XINFO GROUPS</c> of every durable group's stream.</summary>
public sealed partial class RedisTransport : ITransportInspector
{
    public async ValueTask<BrokerView> InspectAsync(CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        var connections = new List<BrokerConnection>();
        var subscribers = new List<SubjectSubscribers>();
        var groups = new List<GroupState>();
        if (_connection is not { } connection)
        {
            return new BrokerView(Name, "nothing: not connected", connections, subscribers, groups, ["Not connected."]);
        }

        var server = connection.GetServers().FirstOrDefault(s => s.IsConnected);
        if (server is null)
        {
            return new BrokerView(Name, "nothing: not connected", connections, subscribers, groups, [$"No connection to {SafeUrl} now."]);
        }

        await Try(notes, "CLIENT LIST", async () =>
        {
            foreach (var client in await server.ClientListAsync().WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = string.IsNullOrEmpty(client.Name) ? $"id {client.Id}" : client.Name;
                connections.Add(new BrokerConnection(name, client.Address?.ToString() ?? "", client.SubscriptionCount + client.PatternSubscriptionCount, null, null));
            }
        }).ConfigureAwait(false);

        await Try(notes, "PUBSUB CHANNELS", async () =>
        {
            foreach (var channel in await server.SubscriptionChannelsAsync(RedisChannel.Pattern("*")).WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = channel.ToString();
                if (!name.StartsWith(WakePrefix, StringComparison.Ordinal))
                {
                    subscribers.Add(new SubjectSubscribers(name, (int)await server.SubscriptionSubscriberCountAsync(channel).WaitAsync(cancellationToken).ConfigureAwait(false)));
                }
            }

            var patterns = await server.SubscriptionPatternCountAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            if (patterns > 0)
            {
                notes.Add($"{patterns} pattern subscriptions (wildcards) besides: Redis counts them, it does not list them.");
            }
        }).ConfigureAwait(false);

        await Try(notes, "XINFO GROUPS", async () =>
        {
            foreach (var entry in await Database.HashGetAllAsync(GroupsKey).WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                var (group, subject) = (entry.Name.ToString(), entry.Value.ToString());
                var info = (await Database.StreamGroupInfoAsync(StreamPrefix + subject).WaitAsync(cancellationToken).ConfigureAwait(false))
                    .FirstOrDefault(g => g.Name == group);
                if (info.Name is not null)
                {
                    groups.Add(new GroupState(group, subject, info.Lag ?? 0, info.PendingMessageCount, (int)info.ConsumerCount));
                }
            }

            if (groups.Count > 0)
            {
                notes.Add("A Redis group lists every consumer that ever read, until deleted (XGROUP DELCONSUMER): a gone member still counts.");
            }
        }).ConfigureAwait(false);

        return new BrokerView(
            Name,
            $"{SafeUrl}: CLIENT LIST, PUBSUB NUMSUB, XINFO GROUPS",
            [.. connections.OrderBy(c => c.Name, StringComparer.Ordinal)],
            [.. subscribers.OrderBy(s => s.Subject, StringComparer.Ordinal)],
            [.. groups.OrderBy(g => g.Group, StringComparer.Ordinal)],
            notes);
    }

    private static async Task Try(List<string> notes, string command, Func<Task> read)
    {
        try
        {
            await read().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or RedisCommandException or TimeoutException)
        {
            // An ACL user may not be allowed the command: say so, show the rest.
            notes.Add($"{command} failed: {e.Message}");
        }
    }
}
