using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using ToDoList.Messaging.Hosting;
using ToDoList.Messaging.Nats;
using ToDoList.Messaging.Tests.Conformance;
using ToDoList.TestSupport;

namespace ToDoList.Messaging.Tests.Nats;

/// <summary>What only NATS has: a server that restarts, credentials in the URL, its own limits, its own clients.</summary>
public sealed class NatsTransportTests
{
    private static readonly RetryPolicy FastRetry = new()
    {
        MaxDeliver = 3,
        InitialDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(50),
    };

    private readonly string _prefix = "n" + Nuid.Next();

    // ---- a server restart --------------------------------------------------------------------

    [Fact]
    public async Task Core_and_durable_subscriptions_work_again_after_a_server_restart()
    {
        await using var server = await NatsServer.StartAsync();
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

        await server.StopAsync();
        await server.StartAgainAsync();

        // Both connections of both processes come back by themselves.
        await Wait.For(logs.WhenCount(e => e.Message.Contains("open again", StringComparison.Ordinal), 4), "four connections to reconnect");
        await PublishTextAsync(publisher, Subject("events.saved"), "durable after");
        await durable.WaitForTextAsync("durable after");

        // A plain message reaches a subscription once the server has it again: at-most-once, so send until one arrives.
        await EventuallyAsync(i => PublishTextAsync(publisher, Subject("core"), $"plain after {i}"), plain, t => t.StartsWith("plain after", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("subscriptions", StringComparison.Ordinal) && e.Message.Contains("lost", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Durable_messages_kept_before_a_server_restart_are_delivered_after_it()
    {
        await using var server = await NatsServer.StartAsync();
        var subject = Subject("events.kept");
        var group = Group("savers");
        await using (var firstRun = await ConnectAsync(server.Url))
        {
            await firstRun.SubscribeAsync(subject, new Recorder().Handler, Durable(group));
        }

        var sent = Enumerable.Range(0, 5).Select(i => $"kept {i}").ToList();
        await using (var publisher = await ConnectAsync(server.Url))
        {
            foreach (var text in sent)
            {
                await PublishTextAsync(publisher, subject, text);
            }
        }

        await server.StopAsync();
        await server.StartAgainAsync();

        await using var restarted = await ConnectAsync(server.Url);
        var recorder = new Recorder();
        await restarted.SubscribeAsync(subject, recorder.Handler, Durable(group));
        await recorder.WaitForCountAsync(sent.Count);
        Assert.Equal(sent, recorder.Texts);
    }

    // ---- credentials -------------------------------------------------------------------------

    [Theory]
    [InlineData("authorization { user: \"todo\", password: \"s3cret-Pa55\" }", "todo:s3cret-Pa55", "todo:wrong-Pa55")]
    [InlineData("authorization { token: \"t0ken-S3cret\" }", "t0ken-S3cret", "wr0ng-T0ken")]
    public async Task Credentials_in_the_url_log_in_and_wrong_ones_fail_clearly_without_showing_them(string settings, string good, string wrong)
    {
        await using var server = await NatsServer.StartAsync(settings);
        var logs = new LogRecorder();
        await using (var bus = await ConnectAsync($"nats://{good}@127.0.0.1:{server.Port}", logs))
        {
            var recorder = new Recorder();
            await bus.SubscribeAsync(Subject("events.todo.newitem"), recorder.Handler, Durable(Group("savers")));
            await PublishTextAsync(bus, Subject("events.todo.newitem"), "logged in");
            await recorder.WaitForTextAsync("logged in");
        }

        var error = await Assert.ThrowsAsync<TransportException>(() => ConnectAsync($"nats://{wrong}@127.0.0.1:{server.Port}", logs));

        Assert.Contains("Authorization Violation", error.Message);
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message);
        foreach (var secret in new[] { good, wrong }.SelectMany(c => c.Split(':')).Where(s => s.Contains("Pa55") || s.Contains("0ken") || s.Contains("T0ken")))
        {
            Assert.DoesNotContain(secret, error.ToString());
            Assert.DoesNotContain(logs.Entries, e => e.ToString().Contains(secret, StringComparison.Ordinal));
        }
    }

    // ---- limits ------------------------------------------------------------------------------

    [Fact]
    public async Task Server_whose_max_payload_is_below_what_the_bus_allows_is_refused_at_connect()
    {
        await using var server = await NatsServer.StartAsync(maxPayload: "1MB");

        var error = await Assert.ThrowsAsync<TransportException>(() => ConnectAsync(server.Url));

        Assert.Contains("max_payload", error.Message);
        Assert.Contains("1048576", error.Message);
    }

    [Fact]
    public async Task Slow_plain_subscriber_gets_every_message_in_order_and_nothing_is_logged_as_lost()
    {
        var server = await NatsServer.GetSharedAsync();
        var logs = new LogRecorder();
        var subject = Subject("events.todo.newitem");
        await using var publisher = await ConnectAsync(server.Url, logs);
        await using var subscriber = await ConnectAsync(server.Url, logs);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = new Recorder(async (context, ct) =>
        {
            if (Recorder.TextOf(context) == "0")
            {
                await release.Task.WaitAsync(ct);
            }
        });
        await subscriber.SubscribeAsync(subject, recorder.Handler, new SubscribeOptions { Capacity = 8 });

        // Far more than the subscriber's buffer: the client stops reading and the server holds the rest.
        const int count = 20_000;
        for (var i = 0; i < count; i++)
        {
            await PublishTextAsync(publisher, subject, i.ToString(CultureInfo.InvariantCulture));
        }

        await recorder.WaitForTextAsync("0");
        release.SetResult();

        await recorder.WaitForCountAsync(count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture)), recorder.Texts);
        Assert.Empty(logs.Errors);
    }

    [Fact]
    public async Task Subscriber_the_server_cuts_off_for_reading_too_slowly_is_logged_as_an_error()
    {
        // Small server buffers so the cut comes soon; the bus's payload limit shrunk to fit the server's.
        await using var server = await NatsServer.StartAsync("max_pending: 262144\nwrite_deadline: \"500ms\"", maxPayload: "65536");
        var options = new NatsTransportOptions { MaxPayloadBytes = 32 * 1024, MaxHeaderBytes = 1024 };
        var logs = new LogRecorder();
        var subject = Subject("events.todo.attachment");
        await using var publisher = await ConnectAsync(server.Url, new LogRecorder(), options);
        await using var subscriber = await ConnectAsync(server.Url, logs, options);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = new Recorder(async (_, ct) => await release.Task.WaitAsync(ct));
        await subscriber.SubscribeAsync(subject, recorder.Handler, new SubscribeOptions { Capacity = 1 });

        var data = new byte[30 * 1024];
        using var monitor = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MonitorPort}") };
        for (var i = 0; i < 2000 && await SlowConsumersAsync(monitor) == 0; i++)
        {
            await publisher.PublishAsync(new Message(subject, data));
        }

        Assert.True(await SlowConsumersAsync(monitor) > 0, "the server never cut the subscriber off");
        release.SetResult();

        // Once the subscriber reads again it finds its connection closed, and says messages were lost.
        await Wait.For(logs.When(e => e.Level == LogLevel.Error && e.Message.Contains("lost", StringComparison.Ordinal)), "an error saying messages were lost");
    }

    [Fact]
    public async Task Server_that_is_not_there_fails_at_connect_with_its_address()
    {
        await using var server = await NatsServer.StartAsync();
        var url = server.Url;
        await server.StopAsync();

        var error = await Assert.ThrowsAsync<TransportException>(() => ConnectAsync(url));

        Assert.Contains(url, error.Message);
    }

    [Fact]
    public async Task Server_without_JetStream_serves_plain_messaging_and_refuses_durable_groups_clearly()
    {
        await using var server = await NatsServer.StartAsync(jetStream: false);
        await using var bus = await ConnectAsync(server.Url);
        var recorder = new Recorder();
        await bus.SubscribeAsync(Subject("events.todo.newitem"), recorder.Handler);

        await PublishTextAsync(bus, Subject("events.todo.newitem"), "plain");
        await recorder.WaitForTextAsync("plain");
        var error = await Assert.ThrowsAsync<TransportException>(() => bus.SubscribeAsync(Subject("events.todo.newitem"), recorder.Handler, Durable(Group("savers"))).AsTask());
        Assert.Contains("JetStream", error.Message);
    }

    // ---- JetStream ---------------------------------------------------------------------------

    [Fact]
    public async Task Request_to_a_subject_a_stream_keeps_gets_the_responders_reply_not_the_streams_acknowledgement()
    {
        var server = await NatsServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        await using var requester = await ConnectAsync(server.Url);
        await using var responder = await ConnectAsync(server.Url);
        await responder.SubscribeAsync<Note>(subject, (context, ct) => context.ReplyAsync(new Note("saved " + context.Data.Text), ct), Durable(Group("savers")));

        var reply = await requester.RequestAsync(subject, new Note("milk"), TimeSpan.FromSeconds(5));

        Assert.Equal("{\"text\":\"saved milk\"}", Encoding.UTF8.GetString(reply.Data.Span));
    }

    [Fact]
    public async Task Publish_the_stream_refuses_fails_with_a_TransportException()
    {
        var server = await NatsServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        await using (var firstRun = await ConnectAsync(server.Url))
        {
            await firstRun.SubscribeAsync(subject, new Recorder().Handler, Durable(Group("savers")));
        }

        // The operator limits the stream to one message and refuses more.
        await using var raw = new NatsConnection(new NatsOpts { Url = server.Url });
        var js = new NatsJSContext(raw);
        var stream = await js.GetStreamAsync(StreamOf(subject));
        var config = stream.Info.Config;
        config.MaxMsgs = 1;
        config.Discard = StreamConfigDiscard.New;
        await js.UpdateStreamAsync(config);
        await using var publisher = await ConnectAsync(server.Url);
        await PublishTextAsync(publisher, subject, "kept");

        var error = await Assert.ThrowsAsync<TransportException>(() => PublishTextAsync(publisher, subject, "refused"));

        Assert.Contains("refused", error.Message);
        Assert.Contains(subject, error.Message);
    }

    [Fact]
    public async Task Stream_made_by_another_process_is_used_as_soon_as_its_advisory_arrives()
    {
        // A server of its own: advisories of other tests' streams would wake this one.
        await using var server = await NatsServer.StartAsync();
        var subject = Subject("audit.entries");
        var transport = new NatsTransport(TransportUrl.Parse(server.Url));
        await using var publisher = new MessageBus(transport);
        await publisher.ConnectAsync();
        await PublishTextAsync(publisher, subject, "no stream yet");
        var changed = transport.NextStreamChange;

        await using var raw = new NatsConnection(new NatsOpts { Url = server.Url });
        await new NatsJSContext(raw).CreateStreamAsync(new StreamConfig("AUDIT_BY_OPS", [Subject("audit.>")]) { MaxMsgs = 1, Discard = StreamConfigDiscard.New });
        await Wait.For(changed, "the advisory of the new stream");

        // Through JetStream now: the stream's refusal of a second message comes back as an error, not a silent drop.
        await PublishTextAsync(publisher, subject, "kept");
        await Assert.ThrowsAsync<TransportException>(() => PublishTextAsync(publisher, subject, "refused"));
    }

    [Fact]
    public async Task Stream_keeps_the_subjects_durable_groups_follow_and_nothing_else()
    {
        var server = await NatsServer.GetSharedAsync();
        await using var bus = await ConnectAsync(server.Url);
        await bus.DeclareDurableGroupAsync(Subject("events.newitem"), Group("savers"));
        await bus.DeclareDurableGroupAsync(Subject("deleted"), Group("deleters"));
        await PublishTextAsync(bus, Subject("events.newitem"), "kept");
        await PublishTextAsync(bus, Subject("events.saved"), "not kept");

        await using var raw = new NatsConnection(new NatsOpts { Url = server.Url });
        var stream = await new NatsJSContext(raw).GetStreamAsync(StreamOf(Subject("events.newitem")));
        Assert.Equal([Subject("events.newitem"), Subject("deleted")], stream.Info.Config.Subjects);
        Assert.Equal(1, stream.Info.State.Messages);
    }

    [Theory]
    [InlineData("events.newitem", "events.*", "events.*")]
    [InlineData("events.*", "*.newitem", "")]
    public async Task Groups_on_subjects_that_overlap_share_one_stream_and_each_gets_every_message(string first, string second, string captured)
    {
        var server = await NatsServer.GetSharedAsync();
        await using var publisher = await ConnectAsync(server.Url);
        await using var consumer = await ConnectAsync(server.Url);
        var one = new Recorder();
        var other = new Recorder();
        await consumer.SubscribeAsync(Subject(first), one.Handler, Durable(Group("one")));
        await consumer.SubscribeAsync(Subject(second), other.Handler, Durable(Group("other")));
        await PublishTextAsync(publisher, Subject("events.newitem"), "to both");

        await one.WaitForTextAsync("to both");
        await other.WaitForTextAsync("to both");

        // A pattern replaces the subjects it covers; patterns that overlap otherwise make the stream take the whole first token.
        await using var raw = new NatsConnection(new NatsOpts { Url = server.Url });
        var stream = await new NatsJSContext(raw).GetStreamAsync(StreamOf(Subject("events.newitem")));
        Assert.Equal(captured.Length > 0 ? [Subject(captured)] : [_prefix, _prefix + ".>"], stream.Info.Config.Subjects);
    }

    [Fact]
    public async Task Durable_member_that_stops_hands_what_it_had_pulled_to_the_others_at_once()
    {
        var server = await NatsServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        var options = Durable(Group("savers")) with { AckWait = TimeSpan.FromMinutes(1) };
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

        // The first member holds "0" and has pulled the rest; the second gets nothing meanwhile.
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
        Assert.Equal(["1", "2", "3", "4"], second.Texts);
    }

    [Fact]
    public async Task Durable_group_bound_to_one_subject_refuses_another()
    {
        var server = await NatsServer.GetSharedAsync();
        await using var bus = await ConnectAsync(server.Url);
        await bus.SubscribeAsync(Subject("events.todo.newitem"), new Recorder().Handler, Durable(Group("savers")));

        var error = await Assert.ThrowsAsync<TransportException>(() => bus.SubscribeAsync(Subject("events.todo.itemsaved"), new Recorder().Handler, Durable(Group("savers"))).AsTask());

        Assert.Contains(Subject("events.todo.newitem"), error.Message);
    }

    [Fact]
    public async Task Durable_subscription_needs_a_first_token_to_name_its_stream()
    {
        var server = await NatsServer.GetSharedAsync();
        await using var bus = await ConnectAsync(server.Url);

        await Assert.ThrowsAsync<TransportException>(() => bus.SubscribeAsync("*.todo.newitem", new Recorder().Handler, Durable(Group("savers"))).AsTask());
    }

    // ---- the broker's own clients ------------------------------------------------------------

    [Fact]
    public async Task Raw_NATS_clients_and_the_bus_understand_each_other()
    {
        var server = await NatsServer.GetSharedAsync();
        await using var bus = await ConnectAsync(server.Url);
        await using var raw = new NatsConnection(new NatsOpts { Url = server.Url });
        await raw.ConnectAsync();

        // A bare payload from any client is delivered as raw data.
        var recorder = new Recorder();
        await bus.SubscribeAsync(Subject("events.todo.newitem"), recorder.Handler);
        await raw.PublishAsync(Subject("events.todo.newitem"), Encoding.UTF8.GetBytes("{\"item\":\"milk\"}"));
        var received = (await recorder.WaitForCountAsync(1))[0];
        Assert.Equal("{\"item\":\"milk\"}", Recorder.TextOf(received));
        Assert.Null(received.EventId);

        // What the bus publishes is a CloudEvent in binary mode: attributes in ce- headers, the data as it is.
        await using var sub = await raw.SubscribeCoreAsync<byte[]>(Subject("events.todo.itemsaved"));
        await raw.PingAsync();
        var id = await bus.PublishAsync(Subject("events.todo.itemsaved"), new Note("saved"));
        var msg = await sub.Msgs.ReadAsync().AsTask().WaitAsync(Wait.Deadline);
        Assert.Equal(id, msg.Headers?["ce-id"].ToString());
        Assert.Equal(Subject("events.todo.itemsaved"), msg.Headers?["ce-type"].ToString());
        Assert.Equal("{\"text\":\"saved\"}", Encoding.UTF8.GetString(msg.Data!));
    }

    // ---- hosting -----------------------------------------------------------------------------

    [Theory]
    [InlineData("nats://user:secret@nats:4222", "nats")]
    [InlineData("tls://nats.example:4222", "tls")]
    public async Task AddNatsTransport_makes_the_nats_and_tls_schemes_known(string url, string scheme)
    {
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddMessaging(_ => new MessagingOptions { Url = url })
            .AddNatsTransport()
            .BuildServiceProvider();

        var bus = services.GetRequiredService<MessageBus>();

        Assert.IsType<NatsTransport>(bus.Transport);
        Assert.Equal(scheme, bus.Transport.Name);
    }

    [Fact]
    public void Client_is_given_the_url_without_its_credentials()
    {
        var opts = NatsTransport.CreateOpts(TransportUrl.Parse("nats://todo:p%40ss@nats:4333"), new NatsTransportOptions(), new LogRecorder());

        Assert.Equal("nats://nats:4333", opts.Url);
        Assert.Equal("todo", opts.AuthOpts.Username);
        Assert.Equal("p@ss", opts.AuthOpts.Password);
        Assert.Equal(BoundedChannelFullMode.Wait, opts.SubPendingChannelFullMode);
        Assert.Equal(TlsMode.Require, NatsTransport.CreateOpts(TransportUrl.Parse("tls://nats"), new NatsTransportOptions(), new LogRecorder()).TlsOpts.Mode);
    }

    // ---- helpers -----------------------------------------------------------------------------

    private string Subject(string name) => $"{_prefix}.{name}";

    private string Group(string name) => $"{_prefix}-{name}";

    private static string StreamOf(string subject) => JetStreamNames.StreamFor(subject);

    private static SubscribeOptions Durable(string group) => new() { QueueGroup = group, Durable = true, Retry = FastRetry };

    private static Task<MessageBus> ConnectAsync(string url, ILoggerFactory? logs = null, NatsTransportOptions? options = null) =>
        TestBus.ConnectAsync(new NatsTransport(TransportUrl.Parse(url), options, logs), new MessagingOptions { Retry = FastRetry, MaxPayloadBytes = options?.MaxPayloadBytes ?? 1024 * 1024 });

    private static Task PublishTextAsync(MessageBus bus, string subject, string text) =>
        bus.PublishAsync(new Message(subject, Encoding.UTF8.GetBytes(text))).AsTask();

    /// <summary>Publishes again and again until the recorder got one of them, within the deadline.</summary>
    private static async Task EventuallyAsync(Func<int, Task> publish, Recorder recorder, Func<string, bool> arrived)
    {
        var came = recorder.When(r => r.Any(c => arrived(Recorder.TextOf(c))));
        var deadline = DateTime.UtcNow + Wait.Deadline;
        for (var i = 0; !came.IsCompleted; i++)
        {
            Assert.True(DateTime.UtcNow < deadline, $"nothing arrived within {Wait.Deadline}");
            await publish(i);
            await Task.WhenAny(came, Task.Delay(100));
        }
    }

    private static async Task<long> SlowConsumersAsync(HttpClient monitor)
    {
        using var varz = await monitor.GetFromJsonAsync<JsonDocument>("/varz");
        return varz!.RootElement.GetProperty("slow_consumers").GetInt64();
    }
}
