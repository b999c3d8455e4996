using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ToDoList.Messaging;

/// <summary>One running component instance, as it answers a scatter-gather on <see cref="Subject"/>.</summary>
public sealed record InstanceInfo(
    string InstanceId,
    string Role,
    string Host,
    int ProcessId,
    string Version,
    string Transport,
    DateTimeOffset StartedAt,
    long Published,
    long Handled,
    long Failed,
    long DeadLettered)
{
    public const string Subject = "diagnostics.instances";

    public TimeSpan Uptime => DateTimeOffset.UtcNow - StartedAt;

    /// <summary>Asks every running instance, over the queue, and returns those that answered within the window.</summary>
    public static async Task<IReadOnlyList<InstanceInfo>> GatherAsync(MessageBus bus, TimeSpan window, CancellationToken cancellationToken = default)
    {
        var request = new Message(Subject, ReadOnlyMemory<byte>.Empty);
        var replies = await bus.GatherAsync(request, new GatherOptions { Window = window }, cancellationToken).ConfigureAwait(false);
        var instances = new List<InstanceInfo>();
        foreach (var reply in replies)
        {
            try
            {
                if (JsonSerializer.Deserialize(reply.Data.Span, InstanceInfoJson.Default.InstanceInfo) is { } info)
                {
                    instances.Add(info);
                }
            }
            catch (JsonException)
            {
                // Something else answered on the subject: not an instance.
            }
        }

        return instances.OrderBy(i => i.Role, StringComparer.Ordinal).ThenBy(i => i.StartedAt).ToList();
    }
}

/// <summary>This process's identity; answers <see cref="InstanceInfo.Subject"/>.</summary>
public sealed class InstanceDirectory(string role, MessageBus bus, Assembly application)
{
    private readonly string _instanceId = Nuid.Next()[^8..];
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;
    private readonly string _version = application.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    public InstanceInfo Current()
    {
        var stats = bus.Statistics;
        return new InstanceInfo(_instanceId, role, Environment.MachineName, Environment.ProcessId, _version, bus.Transport.Name, _startedAt, stats.Published, stats.Handled, stats.Failed, stats.DeadLettered);
    }

    internal ValueTask ReplyAsync(MessageContext context, CancellationToken cancellationToken) =>
        context.ReplyRawAsync(JsonSerializer.SerializeToUtf8Bytes(Current(), InstanceInfoJson.Default.InstanceInfo), cancellationToken: cancellationToken);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(InstanceInfo))]
internal sealed partial class InstanceInfoJson : JsonSerializerContext;
