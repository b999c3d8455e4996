using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using ToDoList.Messaging.Nats;
using ToDoList.Messaging.Transport;
using ToDoList.TestSupport;

namespace ToDoList.Messaging.Tests.Nats;

/// <summary>
/// A NATS user without the right to a subject: the server answers only with an asynchronous -ERR, so the transport
/// must turn it into a failed publish or an error in the log, never a silent loss.
/// </summary>
public sealed class NatsPermissionTests
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(20);

    // 'limited' may use JetStream and publish events.>, not deadletter.>; 'declarer' may make streams and consumers as
    // the app's roles may (deploy/permissions), not update a stream; 'owner' may do anything.
    private const string Users = """
        authorization {
          users = [
            { user: owner, password: owner-pw }
            {
              user: declarer, password: declarer-pw
              permissions: {
                publish: { allow: ["$JS.API.STREAM.NAMES", "$JS.API.STREAM.CREATE.*", "$JS.API.STREAM.INFO.*", "$JS.API.CONSUMER.CREATE.>", "$JS.API.CONSUMER.INFO.>"] }
                subscribe: { allow: ["_INBOX.>", "$JS.EVENT.ADVISORY.STREAM.>"] }
              }
            }
            {
              user: limited, password: limited-pw
              permissions: {
                publish: { allow: ["$JS.API.>", "_INBOX.>", "events.>"] }
                subscribe: { allow: ["_INBOX.>", "$JS.EVENT.ADVISORY.STREAM.>"] }
              }
            }
          ]
        }
        """;

    [Fact]
    public async Task A_durable_publish_the_user_may_not_make_fails_at_once_naming_the_permissions_violation()
    {
        await using var server = await NatsServer.StartAsync(Users);
        await using var owner = await ConnectAsync($"nats://owner:owner-pw@127.0.0.1:{server.Port}");
        await owner.DeclareDurableGroupAsync("deadletter.>", "keeper");
        var logs = new LogRecorder();
        // The acknowledgement's own timeout is long: a refusal must not wait for it.
        await using var limited = await ConnectAsync($"nats://limited:limited-pw@127.0.0.1:{server.Port}", logs, new NatsTransportOptions { PublishAckTimeout = AckTimeout });

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TransportException>(() => limited.PublishAsync(new Message("deadletter.events.x", "forged"u8.ToArray())).AsTask());

        Assert.True(clock.Elapsed < AckTimeout / 2, $"the refusal took {clock.Elapsed}");
        Assert.Contains("'deadletter.events.x'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Permissions Violation", error.Message, StringComparison.Ordinal);
        Assert.Contains("may not publish", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("limited-pw", error.Message, StringComparison.Ordinal);
        Assert.Contains(logs.Errors, e => e.Message.Contains("Permissions Violation for Publish to \"deadletter.events.x\"", StringComparison.Ordinal));

        // What the user may do still works on the same connection.
        await limited.DeclareDurableGroupAsync("events.>", "events-keeper");
        await limited.PublishAsync(new Message("events.allowed", "fine"u8.ToArray()));
    }

    [Fact]
    public async Task A_plain_publish_or_subscription_the_user_may_not_make_is_logged_as_an_error_naming_the_subject()
    {
        await using var server = await NatsServer.StartAsync(Users);
        var logs = new LogRecorder();
        await using var limited = await ConnectAsync($"nats://limited:limited-pw@127.0.0.1:{server.Port}", logs);

        // No stream keeps admin.x: a plain publish, which NATS acknowledges to nobody.
        await limited.PublishAsync(new Message("admin.x", Encoding.UTF8.GetBytes("forged")));
        await limited.SubscribeAsync("events.secret", (_, _) => ValueTask.CompletedTask);

        await Wait.For(logs.When(e => e.Level == LogLevel.Error && e.Message.Contains("Permissions Violation for Publish to \"admin.x\"", StringComparison.Ordinal)), "the refused publish to be logged");
        await Wait.For(logs.When(e => e.Level == LogLevel.Error && e.Message.Contains("Permissions Violation for Subscription to \"events.secret\"", StringComparison.Ordinal)), "the refused subscription to be logged");
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("limited-pw", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Groups_declared_together_share_a_stream_made_at_once_so_declaring_needs_no_stream_update()
    {
        await using var server = await NatsServer.StartAsync(Users);
        await using var declarer = await ConnectAsync($"nats://declarer:declarer-pw@127.0.0.1:{server.Port}");
        DurableGroupRequest[] topology = [new("jobs.complete", "completers", AckTimeout), new("jobs.delete", "deleters", AckTimeout), new("other.>", "others", AckTimeout)];

        await declarer.DeclareDurableGroupsAsync(topology);
        await declarer.DeclareDurableGroupsAsync(topology); // as every other process of the system does at its start

        await using var raw = new NatsConnection(new NatsOpts { Url = $"nats://owner:owner-pw@127.0.0.1:{server.Port}" });
        var jetStream = new NatsJSContext(raw);
        Assert.Equal(["jobs.complete", "jobs.delete"], (await jetStream.GetStreamAsync("JOBS")).Info.Config.Subjects);
        Assert.Equal(["other.>"], (await jetStream.GetStreamAsync("OTHER")).Info.Config.Subjects);
        Assert.Equal("jobs.delete", (await jetStream.GetConsumerAsync("JOBS", "deleters")).Info.Config.FilterSubject);
    }

    private static Task<MessageBus> ConnectAsync(string url, ILoggerFactory? logs = null, NatsTransportOptions? options = null) =>
        TestBus.ConnectAsync(new NatsTransport(TransportUrl.Parse(url), options, logs));
}
