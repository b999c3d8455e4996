using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using ToDoList.Messaging.Diagnostics;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.RabbitMq;

/// <summary>
/// What RabbitMQ sees: with the management plugin (<see cref="RabbitMqTransportOptions.MonitorUrl"/>) its connections
/// and every durable queue's ready, unacknowledged and consumer counts; without it, the durable groups this process
/// declared, read by a passive declare (ready and consumers: AMQP tells no more).
/// </summary>
public sealed partial class RabbitMqTransport : ITransportInspector
{
    private static readonly HttpClient Management = new() { Timeout = TimeSpan.FromSeconds(3) };

    // Queue name → the group and subject it was declared for, by this process.
    private readonly ConcurrentDictionary<string, (string Group, string Subject)> _durableGroups = new(StringComparer.Ordinal);

    public async ValueTask<BrokerView> InspectAsync(CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        if (_options.MonitorUrl is { } monitor)
        {
            var view = await ReadManagementAsync(monitor.TrimEnd('/'), notes, cancellationToken).ConfigureAwait(false);
            if (view is not null)
            {
                return view;
            }
        }
        else
        {
            notes.Add("Connections and unacknowledged counts come from the management plugin: set MessageQueue:MonitorUrl (for example http://message-queue:15672).");
        }

        var groups = new List<GroupState>();
        foreach (var (queue, (group, subject)) in _durableGroups)
        {
            try
            {
                uint ready = 0, consumers = 0;
                await DeclareAsync(
                    async channel =>
                    {
                        var ok = await channel.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false);
                        (ready, consumers) = (ok.MessageCount, ok.ConsumerCount);
                    },
                    ConsumerConnection,
                    cancellationToken).ConfigureAwait(false);
                groups.Add(new GroupState(group, subject, ready, null, (int)consumers));
            }
            catch (Exception e) when (e is OperationInterruptedException or AlreadyClosedException or TransportException)
            {
                notes.Add($"Could not read queue '{queue}': {e.Message}");
            }
        }

        return new BrokerView(Name, $"{SafeUrl}: passive declare of this process's durable queues", [], [], [.. groups.OrderBy(g => g.Group, StringComparer.Ordinal)], notes);
    }

    private async Task<BrokerView?> ReadManagementAsync(string monitor, List<string> notes, CancellationToken cancellationToken)
    {
        var vhost = Uri.EscapeDataString(_url.Uri.AbsolutePath.Length > 1 ? Uri.UnescapeDataString(_url.Uri.AbsolutePath[1..]) : "/");
        try
        {
            using var queues = await GetAsync($"{monitor}/api/queues/{vhost}", cancellationToken).ConfigureAwait(false);
            using var connections = await GetAsync($"{monitor}/api/connections", cancellationToken).ConfigureAwait(false);
            var groups = new List<GroupState>();
            var subscribers = new List<SubjectSubscribers>();
            foreach (var q in queues.RootElement.EnumerateArray())
            {
                var name = q.GetProperty("name").GetString()!;
                var consumers = q.TryGetProperty("consumers", out var c) ? c.GetInt32() : 0;
                if (_durableGroups.TryGetValue(name, out var known) || q.GetProperty("durable").GetBoolean() && !IsHelperQueue(name))
                {
                    var (group, subject) = known.Group is null ? (name, "") : known;
                    groups.Add(new GroupState(group, subject, Count(q, "messages_ready"), Count(q, "messages_unacknowledged"), consumers));
                }
                else if (!IsHelperQueue(name))
                {
                    // A plain subscriber's or a queue group's queue: name and consumers.
                    subscribers.Add(new SubjectSubscribers(name, consumers));
                }
            }

            var clients = connections.RootElement.EnumerateArray().Select(x => new BrokerConnection(
                x.TryGetProperty("client_properties", out var p) && p.TryGetProperty("connection_name", out var n) ? n.GetString() ?? "" : x.GetProperty("name").GetString() ?? "",
                $"{x.GetProperty("peer_host").GetString()}:{x.GetProperty("peer_port").GetInt32()}",
                x.TryGetProperty("channels", out var ch) ? ch.GetInt32() : null,
                x.TryGetProperty("recv_cnt", out var recv) ? recv.GetInt64() : null,
                x.TryGetProperty("send_cnt", out var send) ? send.GetInt64() : null)).ToList();
            return new BrokerView(
                Name,
                $"{TransportUrl.Redact(monitor)}/api/queues and /api/connections",
                [.. clients.OrderBy(x => x.Name, StringComparer.Ordinal)],
                [.. subscribers.OrderBy(s => s.Subject, StringComparer.Ordinal)],
                [.. groups.OrderBy(g => g.Group, StringComparer.Ordinal)],
                notes);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            notes.Add($"Could not read the management API at {TransportUrl.Redact(monitor)}: {e.Message}");
            return null;
        }
    }

    /// <summary>The management API, asked as the URL's user (the management tag is needed).</summary>
    private async Task<JsonDocument> GetAsync(string url, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        var user = _url.Uri.UserInfo.Length > 0 ? Uri.UnescapeDataString(_url.Uri.UserInfo) : "guest:guest";
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user)));
        using var response = await Management.SendAsync(request, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonDocument>(cancellationToken).ConfigureAwait(false))!;
    }

    private static long Count(JsonElement queue, string property) => queue.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;

    // The small queue that names a group's subject, and the delay queues of naks.
    private static bool IsHelperQueue(string name) => name.EndsWith(".subject", StringComparison.Ordinal) || name.Contains(".delay.", StringComparison.Ordinal);
}
