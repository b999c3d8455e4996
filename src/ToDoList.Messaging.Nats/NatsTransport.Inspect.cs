using System.Net.Http.Json;
using System.Text.Json;
using NATS.Client.JetStream;
using ToDoList.Messaging.Diagnostics;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Nats;

/// <summary>What the NATS server sees: <c>/connz?subs=1</c> from its monitoring port (the seed's own command), and every JetStream consumer's state.</summary>
public sealed partial class NatsTransport : ITransportInspector
{
    private static readonly HttpClient Monitor = new() { Timeout = TimeSpan.FromSeconds(3) };

    public async ValueTask<BrokerView> InspectAsync(CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        var (connections, subscribers) = await ReadConnzAsync(notes, cancellationToken).ConfigureAwait(false);
        var groups = await ReadConsumersAsync(notes, cancellationToken).ConfigureAwait(false);
        var source = _options.MonitorUrl is { } monitor ? $"{monitor.TrimEnd('/')}/connz?subs=1 and JetStream consumer info" : "JetStream consumer info";
        return new BrokerView(Name, source, connections, subscribers, groups, notes);
    }

    private async Task<(List<BrokerConnection>, List<SubjectSubscribers>)> ReadConnzAsync(List<string> notes, CancellationToken cancellationToken)
    {
        if (_options.MonitorUrl is not { } monitor)
        {
            notes.Add("Connections and subscribers come from the server's monitoring port: set MessageQueue:MonitorUrl (for example http://message-queue:8222).");
            return ([], []);
        }

        var url = $"{monitor.TrimEnd('/')}/connz?subs=1&limit=1024";
        try
        {
            using var connz = await Monitor.GetFromJsonAsync<JsonDocument>(url, cancellationToken).ConfigureAwait(false);
            var connections = new List<BrokerConnection>();
            var bySubject = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var c in connz!.RootElement.GetProperty("connections").EnumerateArray())
            {
                var name = c.TryGetProperty("name", out var n) && n.GetString() is { Length: > 0 } given ? given : $"cid {c.GetProperty("cid").GetInt64()}";
                var address = $"{c.GetProperty("ip").GetString()}:{c.GetProperty("port").GetInt32()}";
                connections.Add(new BrokerConnection(name, address, c.GetProperty("subscriptions").GetInt32(), c.GetProperty("in_msgs").GetInt64(), c.GetProperty("out_msgs").GetInt64()));
                if (c.TryGetProperty("subscriptions_list", out var subs))
                {
                    foreach (var subject in subs.EnumerateArray().Select(s => s.GetString()!).Where(s => !s.StartsWith(Subjects.InboxPrefix, StringComparison.Ordinal)))
                    {
                        bySubject[subject] = bySubject.GetValueOrDefault(subject) + 1;
                    }
                }
            }

            return ([.. connections.OrderBy(c => c.Name, StringComparer.Ordinal)], [.. bySubject.Select(p => new SubjectSubscribers(p.Key, p.Value)).OrderBy(s => s.Subject, StringComparer.Ordinal)]);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            notes.Add($"Could not read {TransportUrl.Redact(url)}: {e.Message}");
            return ([], []);
        }
    }

    private async Task<List<GroupState>> ReadConsumersAsync(List<string> notes, CancellationToken cancellationToken)
    {
        var groups = new List<GroupState>();
        if (_jetStream is not { } jetStream || _publisher?.ServerInfo is not { JetStreamAvailable: true })
        {
            notes.Add("The server runs without JetStream: no durable groups.");
            return groups;
        }

        try
        {
            await foreach (var stream in jetStream.ListStreamsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                await foreach (var consumer in stream.ListConsumersAsync(cancellationToken).ConfigureAwait(false))
                {
                    var info = consumer.Info;
                    var subject = info.Config.FilterSubject ?? string.Join(", ", info.Config.FilterSubjects ?? []);
                    groups.Add(new GroupState(info.Name, subject, (long)info.NumPending, info.NumAckPending, info.NumWaiting));
                }
            }
        }
        catch (Exception e) when (e is NatsJSException or NATS.Client.Core.NatsException or TimeoutException)
        {
            notes.Add($"Could not read the JetStream consumers: {e.Message}");
        }

        return [.. groups.OrderBy(g => g.Group, StringComparer.Ordinal)];
    }
}
