using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ToDoList.Messaging.Hosting;
using ToDoList.Messaging.Redis;
using ToDoList.Messaging.Tests.Conformance;
using ToDoList.Messaging.Tests.Servers;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests.Redis;

/// <summary>What only Redis has: its own clients (redis-cli), passwords and ACL users, streams left by a dead consumer.</summary>
public sealed class RedisTransportTests
{
    private static readonly RetryPolicy FastRetry = new()
    {
        MaxDeliver = 3,
        InitialDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(50),
    };

    private readonly string _prefix = "r" + Nuid.Next();

    // ---- the broker's own client -------------------------------------------------------------

    [Fact]
    public async Task Redis_cli_PUBLISH_reaches_a_subscriber_as_raw_data()
    {
        var server = await RedisServer.GetSharedAsync();
        var channel = Subject("channel21");
        await using var bus = await ConnectAsync(server.Url);
        var recorder = new Recorder();
        await bus.SubscribeAsync(channel, recorder.Handler);

        using var cli = server.StartCli("PUBLISH", channel, "ping");
        await Wait.For(cli.WaitForExitAsync(), "redis-cli PUBLISH");

        var received = (await recorder.WaitForCountAsync(1))[0];
        Assert.Equal("ping", Recorder.TextOf(received));
        Assert.Equal(channel, received.Message.Subject);
        Assert.Null(received.EventId);
        Assert.False(received.Message.HasHeaders);
    }

    [Fact]
    public async Task Raw_publish_reaches_redis_cli_SUBSCRIBE_byte_for_byte()
    {
        var server = await RedisServer.GetSharedAsync();
        var channel = Subject("channel21");
        await using var bus = await ConnectAsync(server.Url);
        using var cli = server.StartCli("SUBSCRIBE", channel);
        try
        {
            // redis-cli prints the confirmation as three lines: subscribe, the channel, the count.
            Assert.Equal(["subscribe", channel, "1"], await ReadLinesAsync(cli, 3));

            await bus.PublishAsync(new Message(channel, "ping"u8.ToArray()));

            Assert.Equal(["message", channel, "ping"], await ReadLinesAsync(cli, 3));
        }
        finally
        {
            cli.Kill();
            await cli.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Redis_cli_PUBLISH_reaches_one_member_of_a_queue_group()
    {
        var server = await RedisServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        await using var first = await ConnectAsync(server.Url);
        await using var second = await ConnectAsync(server.Url);
        var a = new Recorder();
        var b = new Recorder();
        await first.SubscribeAsync(subject, a.Handler, new SubscribeOptions { QueueGroup = "save-handler" });
        await second.SubscribeAsync(subject, b.Handler, new SubscribeOptions { QueueGroup = "save-handler" });

        // The seed's command, five times the same payload: each one is taken once.
        for (var i = 0; i < 5; i++)
        {
            using var cli = server.StartCli("PUBLISH", subject, "{\"item\":\"milk\"}");
            await Wait.For(cli.WaitForExitAsync(), "redis-cli PUBLISH");
        }

        using (var marker = server.StartCli("PUBLISH", subject, "marker"))
        {
            await Wait.For(marker.WaitForExitAsync(), "redis-cli PUBLISH");
        }

        await Wait.For(Task.WhenAny(a.When(r => r.Any(c => Recorder.TextOf(c) == "marker")), b.When(r => r.Any(c => Recorder.TextOf(c) == "marker"))), "the marker at one member");
        Assert.Equal(5, a.Texts.Concat(b.Texts).Count(t => t == "{\"item\":\"milk\"}"));
    }

    [Fact]
    public async Task Durable_message_is_kept_in_a_stream_with_ce_fields()
    {
        var server = await RedisServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        await using var bus = await ConnectAsync(server.Url);
        await bus.DeclareDurableGroupAsync(subject, Group("savers"));

        var id = await bus.PublishAsync(subject, new Note("milk"));

        using var cli = server.StartCli("XRANGE", "todo:stream:" + subject, "-", "+");
        var output = await cli.StandardOutput.ReadToEndAsync().WaitAsync(Wait.Deadline);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(":subject", lines);
        Assert.Contains(subject, lines);
        Assert.Equal(id, lines[Array.IndexOf(lines, "ce-id") + 1]);
        Assert.Contains("ce-type", lines);
        Assert.Contains("{\"text\":\"milk\"}", lines);
    }

    [Fact]
    public async Task Json_payload_that_looks_like_a_CloudEvent_but_is_not_ours_arrives_raw()
    {
        var server = await RedisServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        await using var bus = await ConnectAsync(server.Url);
        var recorder = new Recorder();
        await bus.SubscribeAsync(subject, recorder.Handler);
        const string foreign = "{\"specversion\":\"1.0\",\"id\":\"42\",\"type\":\"x\",\"source\":\"/y\",\"data\":{\"item\":\"milk\"}}";

        using var cli = server.StartCli("PUBLISH", subject, foreign);
        await Wait.For(cli.WaitForExitAsync(), "redis-cli PUBLISH");

        var received = (await recorder.WaitForCountAsync(1))[0];
        Assert.Equal(foreign, Recorder.TextOf(received));
        Assert.False(received.Message.HasHeaders);
    }

    // ---- a consumer that dies ----------------------------------------------------------------

    [Fact]
    public async Task Messages_a_dead_consumer_held_are_claimed_by_another_member_after_the_ack_wait()
    {
        var server = await RedisServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        var request = new SubscriptionRequest(subject, Group("savers"), Durable: true, Capacity: 16, AckWait: TimeSpan.FromMilliseconds(500));
        await using var publisher = await ConnectTransportAsync(server.Url);
        var dying = await ConnectTransportAsync(server.Url);
        var held = await dying.SubscribeAsync(request, CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            await publisher.PublishAsync(new Message(subject, Encoding.UTF8.GetBytes(i.ToString(CultureInfo.InvariantCulture))), CancellationToken.None);
        }

        // It reads all three and acknowledges none, then its process goes away.
        for (var i = 0; i < 3; i++)
        {
            await Wait.For(held.Deliveries.ReadAsync().AsTask(), "the dying consumer's delivery");
        }

        await dying.DisposeAsync();

        await using var survivor = await ConnectTransportAsync(server.Url);
        var taken = await survivor.SubscribeAsync(request, CancellationToken.None);
        var redelivered = new List<Delivery>();
        for (var i = 0; i < 3; i++)
        {
            var delivery = await Wait.For(taken.Deliveries.ReadAsync().AsTask(), "a claimed delivery");
            redelivered.Add(delivery);
            await delivery.Acknowledgement!.AckAsync();
        }

        Assert.Equal(["0", "1", "2"], redelivered.Select(d => Encoding.UTF8.GetString(d.Message.Data.Span)).Order());
        Assert.All(redelivered, d => Assert.Equal(2, d.Attempt));
    }

    [Fact]
    public async Task Durable_member_that_stops_hands_what_it_had_read_to_the_others_at_once()
    {
        var server = await RedisServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        var options = Durable(Group("savers")) with { AckWait = TimeSpan.FromMinutes(1), MaxConcurrency = 1 };
        await using var publisher = await ConnectAsync(server.Url);
        await using var stopping = await ConnectAsync(server.Url);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = new Recorder(async (context, ct) =>
        {
            if (Recorder.TextOf(context) == "0")
            {
                await release.Task.WaitAsync(ct);
            }
        });
        var member = await stopping.SubscribeAsync(subject, first.Handler, options);
        for (var i = 0; i < 5; i++)
        {
            await PublishTextAsync(publisher, subject, i.ToString(CultureInfo.InvariantCulture));
        }

        // The first member holds "0" and has read the rest; the second gets nothing meanwhile.
        await first.WaitForTextAsync("0");
        await using var staying = await ConnectAsync(server.Url);
        var second = new Recorder();
        await staying.SubscribeAsync(subject, second.Handler, options);

        var stopped = member.DisposeAsync();
        release.SetResult();
        await stopped;

        // Long before the minute of ack wait: given back, not left to expire.
        await second.WaitForCountAsync(4);
        Assert.Equal(["0"], first.Texts);
        Assert.Equal(["1", "2", "3", "4"], second.Texts.Order());
    }

    [Fact]
    public async Task Durable_group_on_a_wildcard_keeps_every_matching_subject_and_nothing_else()
    {
        var server = await RedisServer.GetSharedAsync();
        var group = Group("audit");
        await using var publisher = await ConnectAsync(server.Url);
        await publisher.DeclareDurableGroupAsync(Subject("events.todo.*"), group);

        await PublishTextAsync(publisher, Subject("events.todo.newitem"), "newitem");
        await PublishTextAsync(publisher, Subject("events.todo.item.saved"), "too long");
        await PublishTextAsync(publisher, Subject("events.other.newitem"), "other");
        await PublishTextAsync(publisher, Subject("events.todo.itemsaved"), "itemsaved");

        await using var member = await ConnectAsync(server.Url);
        var recorder = new Recorder();
        await member.SubscribeAsync(Subject("events.todo.*"), recorder.Handler, Durable(group));
        await recorder.WaitForTextAsync("itemsaved");
        Assert.Equal(["newitem", "itemsaved"], recorder.Texts);
        Assert.Equal(Subject("events.todo.newitem"), recorder.Received[0].Message.Subject);
    }

    [Fact]
    public async Task Request_to_a_subject_a_durable_group_keeps_is_not_answered_no_responders()
    {
        var server = await RedisServer.GetSharedAsync();
        var subject = Subject("commands.todo.count");
        await using var requester = await ConnectAsync(server.Url);
        await requester.DeclareDurableGroupAsync(subject, Group("counters"));
        var request = requester.RequestAsync(subject, new Note("how many?"), TimeSpan.FromSeconds(10));

        // Kept in the stream, not refused: the responder that starts later still answers.
        await using var responder = await ConnectAsync(server.Url);
        await responder.SubscribeAsync<Note>(subject, (context, ct) => context.ReplyAsync(new Note("re: " + context.Data.Text), ct), Durable(Group("counters")));

        var reply = await request;
        Assert.Equal("{\"text\":\"re: how many?\"}", Encoding.UTF8.GetString(reply.Data.Span));
    }

    // ---- a server restart --------------------------------------------------------------------

    [Fact]
    public async Task Plain_and_durable_subscriptions_work_again_after_a_server_restart()
    {
        await using var server = await RedisServer.StartAsync();
        var logs = new LogRecorder();
        await using var publisher = await ConnectAsync(server.Url, logs);
        await using var consumer = await ConnectAsync(server.Url, logs);
        var plain = new Recorder();
        var durable = new Recorder();
        await consumer.SubscribeAsync(Subject("core"), plain.Handler);
        await consumer.SubscribeAsync(Subject("events.saved"), durable.Handler, Durable(Group("savers")));
        await PublishTextAsync(publisher, Subject("core"), "plain before");
        await PublishTextAsync(publisher, Subject("events.saved"), "durable before");
        await plain.WaitForTextAsync("plain before");
        await durable.WaitForTextAsync("durable before");

        // Nothing persisted: the server comes back empty, without the group's stream or registry entry.
        await server.StopAsync();
        await server.StartAgainAsync();

        await Wait.For(logs.WhenCount(e => e.Message.Contains("open again", StringComparison.Ordinal), 2), "both connections to reconnect");
        await EventuallyAsync(i => PublishTextAsync(publisher, Subject("core"), $"plain after {i}"), plain, t => t.StartsWith("plain after", StringComparison.Ordinal));
        await EventuallyAsync(i => PublishTextAsync(publisher, Subject("events.saved"), $"durable after {i}"), durable, t => t.StartsWith("durable after", StringComparison.Ordinal));
    }

    // ---- credentials -------------------------------------------------------------------------

    [Theory]
    [InlineData(":s3cr%3Aet-Pa55", ":wr0ng-Pa55")]
    [InlineData("alice:w0nder-Pa55", "alice:wr0ng-Pa55")]
    public async Task Password_in_the_url_logs_in_and_a_wrong_one_fails_without_showing_it(string good, string wrong)
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "s3cr:et-Pa55", "--user", "alice", "on", ">w0nder-Pa55", "~*", "&*", "+@all");
        var logs = new LogRecorder();
        await using (var bus = await ConnectAsync($"redis://{good}@127.0.0.1:{server.Port}", logs))
        {
            var recorder = new Recorder();
            await bus.SubscribeAsync(Subject("events.todo.newitem"), recorder.Handler, Durable(Group("savers")));
            await PublishTextAsync(bus, Subject("events.todo.newitem"), "logged in");
            await recorder.WaitForTextAsync("logged in");
        }

        var error = await Assert.ThrowsAsync<TransportException>(() => ConnectAsync($"redis://{wrong}@127.0.0.1:{server.Port}", logs));

        Assert.Contains($"127.0.0.1:{server.Port}", error.Message);
        foreach (var secret in new[] { "s3cr:et-Pa55", "s3cr%3Aet-Pa55", "w0nder-Pa55", "wr0ng-Pa55" })
        {
            Assert.DoesNotContain(secret, error.ToString());
            Assert.DoesNotContain(logs.Entries, e => e.ToString().Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Server_that_is_not_there_fails_at_connect_with_its_address()
    {
        var error = await Assert.ThrowsAsync<TransportException>(() => ConnectAsync("redis://:secret-Pa55@127.0.0.1:1"));

        Assert.Contains("redis://127.0.0.1:1", error.Message);
        Assert.DoesNotContain("secret-Pa55", error.ToString());
    }

    // ---- mapping -----------------------------------------------------------------------------

    [Theory]
    [InlineData("events.todo.*", "events.todo.*")]
    [InlineData("events.>", "events.*")]
    [InlineData("a.*.c", "a.*.c")]
    [InlineData("we?rd[1].*", "we\\?rd\\[1\\].*")]
    public void Subject_patterns_become_redis_globs(string pattern, string glob) => Assert.Equal(glob, RedisTransport.GlobOf(pattern));

    [Theory]
    [InlineData("redis://127.0.0.1:6379", "redis")]
    [InlineData("rediss://:pw@redis.example:6380", "rediss")]
    public async Task AddRedisTransport_makes_the_redis_and_rediss_schemes_known(string url, string scheme)
    {
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddMessaging(_ => new MessagingOptions { Url = url })
            .AddRedisTransport()
            .BuildServiceProvider();

        var bus = services.GetRequiredService<MessageBus>();

        Assert.IsType<RedisTransport>(bus.Transport);
        Assert.Equal(scheme, bus.Transport.Name);
    }

    // ---- helpers -----------------------------------------------------------------------------

    private string Subject(string name) => $"{_prefix}.{name}";

    private string Group(string name) => $"{_prefix}-{name}";

    private static SubscribeOptions Durable(string group) => new() { QueueGroup = group, Durable = true, Retry = FastRetry };

    private static Task PublishTextAsync(MessageBus bus, string subject, string text) =>
        bus.PublishAsync(new Message(subject, Encoding.UTF8.GetBytes(text))).AsTask();

    /// <summary>At-most-once until the client has reconnected and the member made its group again: publish until one arrives.</summary>
    private static async Task EventuallyAsync(Func<int, Task> publish, Recorder recorder, Func<string, bool> arrived)
    {
        var came = recorder.When(r => r.Any(c => arrived(Recorder.TextOf(c))));
        var deadline = DateTime.UtcNow + Wait.Deadline;
        for (var i = 0; !came.IsCompleted; i++)
        {
            Assert.True(DateTime.UtcNow < deadline, $"nothing arrived within {Wait.Deadline}");
            try
            {
                await publish(i);
            }
            catch (TransportException)
            {
                // Not connected again yet.
            }

            await Task.WhenAny(came, Task.Delay(100));
        }
    }

    private static async Task<List<string>> ReadLinesAsync(Process process, int count)
    {
        var lines = new List<string>();
        while (lines.Count < count)
        {
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(Wait.Deadline);
            Assert.NotNull(line);
            lines.Add(line);
        }

        return lines;
    }

    private static async Task<ITransport> ConnectTransportAsync(string url)
    {
        var transport = new RedisTransport(TransportUrl.Parse(url));
        await transport.ConnectAsync(CancellationToken.None);
        return transport;
    }

    private static Task<MessageBus> ConnectAsync(string url, ILoggerFactory? logs = null) =>
        TestBus.ConnectAsync(new RedisTransport(TransportUrl.Parse(url), loggerFactory: logs), new MessagingOptions { Retry = FastRetry });
}
