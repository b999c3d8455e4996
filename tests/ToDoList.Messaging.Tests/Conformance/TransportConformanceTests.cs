using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ToDoList.Messaging.Diagnostics;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests.Conformance;

/// <summary>
/// SPEC §4, row by row, over <see cref="MessageBus"/> and any <see cref="ITransport"/>. A transport
/// conforms when a subclass that only supplies <see cref="CreateFixture"/> (and states its
/// capabilities) passes. Subjects and group names are unique per test, so tests may share a broker.
/// </summary>
public abstract class TransportConformanceTests : IAsyncLifetime
{
    protected const int MiB = 1024 * 1024;

    /// <summary>Fast retries so dead-letter tests take milliseconds.</summary>
    protected static readonly RetryPolicy FastRetry = new()
    {
        MaxDeliver = 3,
        InitialDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(50),
    };

    private readonly string _prefix = "t" + Nuid.Next();
    private ITransportFixture? _fixture;

    /// <summary>The broker for one test.</summary>
    protected abstract ITransportFixture CreateFixture();

    /// <summary>True where a request to a subject nobody listens on fails at once (NATS); else it times out.</summary>
    protected virtual bool ReportsNoResponders => true;

    /// <summary>True where the broker's view lists subscribers per subject (RabbitMQ needs its management plugin for that).</summary>
    protected virtual bool ShowsSubscribers => true;

    /// <summary>True where a publish waits while a subscriber's buffer is full; elsewhere the broker holds the messages.</summary>
    protected virtual bool PublisherWaitsForFullSubscriber => false;

    public Task InitializeAsync()
    {
        _fixture = CreateFixture();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_fixture is not null)
        {
            await _fixture.DisposeAsync();
        }
    }

    // ---- publish-subscribe -------------------------------------------------------------------

    [Fact]
    public async Task Every_subscriber_gets_every_message_published_after_it_subscribed()
    {
        var subject = Subject("events.todo.newitem");
        await using var publisher = await ConnectAsync();
        await using var first = await ConnectAsync();
        await using var second = await ConnectAsync();
        var a = new Recorder();
        var b = new Recorder();
        await first.SubscribeAsync(subject, a.Handler);
        await second.SubscribeAsync(subject, b.Handler);

        var sent = Enumerable.Range(0, 10).Select(i => $"item {i}").ToList();
        foreach (var text in sent)
        {
            await PublishTextAsync(publisher, subject, text);
        }

        await a.WaitForCountAsync(sent.Count);
        await b.WaitForCountAsync(sent.Count);
        Assert.Equal(sent, a.Texts);
        Assert.Equal(sent, b.Texts);
    }

    [Fact]
    public async Task Subscriber_gets_nothing_published_before_it_subscribed()
    {
        var subject = Subject("events.todo.newitem");
        await using var publisher = await ConnectAsync();
        await using var early = await ConnectAsync();
        await using var late = await ConnectAsync();
        var earlyRecorder = new Recorder();
        await early.SubscribeAsync(subject, earlyRecorder.Handler);
        await PublishTextAsync(publisher, subject, "before");
        await earlyRecorder.WaitForTextAsync("before");

        var lateRecorder = new Recorder();
        await late.SubscribeAsync(subject, lateRecorder.Handler);
        await PublishTextAsync(publisher, subject, "after");

        await lateRecorder.WaitForTextAsync("after");
        Assert.Equal(["after"], lateRecorder.Texts);
    }

    // ---- queue groups ------------------------------------------------------------------------

    [Fact]
    public async Task Queue_group_delivers_each_message_to_one_member()
    {
        var subject = Subject("jobs");
        await using var publisher = await ConnectAsync();
        await using var members = await StartGroupAsync(subject, "workers", count: 2);

        var sent = Enumerable.Range(0, 100).Select(i => $"job {i}").ToList();
        foreach (var text in sent)
        {
            await PublishTextAsync(publisher, subject, text);
        }

        await SettleAsync(publisher, subject, members.Recorders);
        var received = Jobs(members.Recorders);
        Assert.Equal(sent.Count, received.Count);
        Assert.Equal(sent.Order(), received.Order());
    }

    [Fact]
    public async Task Each_queue_group_gets_every_message()
    {
        var subject = Subject("jobs");
        await using var publisher = await ConnectAsync();
        await using var billing = await StartGroupAsync(subject, "billing", count: 2);
        await using var audit = await StartGroupAsync(subject, "audit", count: 2);

        var sent = Enumerable.Range(0, 50).Select(i => $"job {i}").ToList();
        foreach (var text in sent)
        {
            await PublishTextAsync(publisher, subject, text);
        }

        await SettleAsync(publisher, subject, billing.Recorders);
        await SettleAsync(publisher, subject, audit.Recorders);
        Assert.Equal(sent.Order(), Jobs(billing.Recorders).Order());
        Assert.Equal(sent.Order(), Jobs(audit.Recorders).Order());
    }

    [Fact]
    public async Task Queue_group_shares_the_messages_among_all_its_members()
    {
        var subject = Subject("jobs");
        await using var publisher = await ConnectAsync();
        await using var members = await StartGroupAsync(subject, "workers", count: 3);

        for (var i = 0; i < 300; i++)
        {
            await PublishTextAsync(publisher, subject, $"job {i}");
        }

        await SettleAsync(publisher, subject, members.Recorders);
        Assert.Equal(300, Jobs(members.Recorders).Count);
        Assert.All(members.Recorders, member => Assert.NotEmpty(Jobs([member])));
    }

    // ---- wildcards ---------------------------------------------------------------------------

    [Fact]
    public async Task Star_wildcard_matches_exactly_one_token()
    {
        await using var publisher = await ConnectAsync();
        await using var subscriber = await ConnectAsync();
        var recorder = new Recorder();
        await subscriber.SubscribeAsync(Subject("events.todo.*"), recorder.Handler);

        await PublishTextAsync(publisher, Subject("events.todo.newitem"), "newitem");
        await PublishTextAsync(publisher, Subject("events.todo"), "too short");
        await PublishTextAsync(publisher, Subject("events.todo.item.saved"), "too long");
        await PublishTextAsync(publisher, Subject("events.other.newitem"), "other");
        await PublishTextAsync(publisher, Subject("events.todo.itemsaved"), "itemsaved");

        await recorder.WaitForTextAsync("itemsaved");
        Assert.Equal(["newitem", "itemsaved"], recorder.Texts);
        Assert.Equal(Subject("events.todo.newitem"), recorder.Received[0].Message.Subject);
    }

    [Fact]
    public async Task Greater_than_wildcard_matches_one_or_more_trailing_tokens()
    {
        await using var publisher = await ConnectAsync();
        await using var subscriber = await ConnectAsync();
        var recorder = new Recorder();
        await subscriber.SubscribeAsync(Subject("events.>"), recorder.Handler);

        await PublishTextAsync(publisher, Subject("events.todo.newitem"), "three tokens");
        await PublishTextAsync(publisher, Subject("events"), "no trailing token");
        await PublishTextAsync(publisher, Subject("commands.todo.delete"), "command");
        await PublishTextAsync(publisher, Subject("events.audit"), "two tokens");

        await recorder.WaitForTextAsync("two tokens");
        Assert.Equal(["three tokens", "two tokens"], recorder.Texts);
    }

    // ---- at-most-once core -------------------------------------------------------------------

    [Fact]
    public async Task Message_published_with_no_subscriber_is_dropped()
    {
        var subject = Subject("events.todo.newitem");
        await using var publisher = await ConnectAsync();
        await using var subscriber = await ConnectAsync();
        await PublishTextAsync(publisher, subject, "nobody listens");
        await ReachedBrokerAsync(publisher);

        var recorder = new Recorder();
        await subscriber.SubscribeAsync(subject, recorder.Handler);
        await PublishTextAsync(publisher, subject, "marker");

        // In order: had the first one been kept, it would have come before the marker.
        await recorder.WaitForTextAsync("marker");
        Assert.Equal(["marker"], recorder.Texts);
    }

    // ---- durable (at-least-once) -------------------------------------------------------------

    [Fact]
    public async Task Durable_group_keeps_messages_published_while_it_has_no_member()
    {
        var subject = Subject("events.todo.newitem");
        var group = Group("savers");
        await using var publisher = await ConnectAsync();
        await using (var firstRun = await ConnectAsync())
        {
            // The consumer ran once, which made the group, then stopped.
            await firstRun.SubscribeAsync(subject, new Recorder().Handler, Durable(group));
        }

        var sent = Enumerable.Range(0, 5).Select(i => $"item {i}").ToList();
        foreach (var text in sent)
        {
            await PublishTextAsync(publisher, subject, text);
        }

        await using var restarted = await ConnectAsync();
        var recorder = new Recorder();
        await restarted.SubscribeAsync(subject, recorder.Handler, Durable(group));

        await recorder.WaitForCountAsync(sent.Count);
        Assert.Equal(sent, recorder.Texts);
    }

    [Fact]
    public async Task Messages_published_to_a_declared_group_before_any_member_reach_the_first_member()
    {
        var subject = Subject("events.todo.newitem");
        var group = Group("savers");
        await using var deployer = await ConnectAsync();
        await using var publisher = await ConnectAsync();

        // No member has ever run: the group exists because it was declared.
        await deployer.DeclareDurableGroupAsync(subject, group);
        var sent = Enumerable.Range(0, 5).Select(i => $"item {i}").ToList();
        foreach (var text in sent)
        {
            await PublishTextAsync(publisher, subject, text);
        }

        // Every process declares the groups it publishes to: a second declaration keeps what the group holds.
        await publisher.DeclareDurableGroupAsync(subject, group);

        await using var member = await ConnectAsync();
        var recorder = new Recorder();
        await member.SubscribeAsync(subject, recorder.Handler, Durable(group));
        await recorder.WaitForCountAsync(sent.Count);

        // Declared again while a member runs: nothing is delivered again.
        await deployer.DeclareDurableGroupAsync(subject, group);
        await PublishTextAsync(publisher, subject, "marker");
        await recorder.WaitForTextAsync("marker");
        Assert.Equal([.. sent, "marker"], recorder.Texts);
        Assert.All(recorder.Received, c => Assert.Equal(1, c.Attempt));

        var error = await Assert.ThrowsAsync<TransportException>(() => deployer.DeclareDurableGroupAsync(Subject("events.todo.itemsaved"), group).AsTask());
        Assert.Contains(subject, error.Message);
    }

    [Fact]
    public async Task Durable_message_whose_handler_throws_is_delivered_again()
    {
        var subject = Subject("events.todo.newitem");
        await using var bus = await ConnectAsync();
        var recorder = new Recorder((context, _) => context.Attempt == 1 && Recorder.TextOf(context) == "flaky"
            ? throw new InvalidOperationException("database busy")
            : ValueTask.CompletedTask);
        await bus.SubscribeAsync(subject, recorder.Handler, Durable(Group("savers")));

        await PublishTextAsync(bus, subject, "flaky");
        await Wait.For(recorder.When(r => r.Count(c => Recorder.TextOf(c) == "flaky") >= 2), "the second try");
        await PublishTextAsync(bus, subject, "marker");
        await recorder.WaitForTextAsync("marker");

        // Handled on the second try, acknowledged, and not delivered a third time.
        var tries = recorder.Received.Where(c => Recorder.TextOf(c) == "flaky").Select(c => c.Attempt).ToList();
        Assert.Equal([1, 2], tries);
    }

    [Fact]
    public async Task Durable_message_held_by_a_member_that_died_goes_to_another_member()
    {
        var subject = Subject("events.todo.newitem");
        var group = Group("savers");
        var options = Durable(group) with { AckWait = TimeSpan.FromSeconds(1) };
        await using var publisher = await ConnectAsync();
        await using var dying = await ConnectAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = new Recorder(async (_, ct) => await release.Task.WaitAsync(ct));
        await dying.SubscribeAsync(subject, holder.Handler, options);

        var id = await publisher.PublishAsync(subject, new Note("save me"));
        await holder.WaitForCountAsync(1);

        await using var survivor = await ConnectAsync();
        var recorder = new Recorder();
        await survivor.SubscribeAsync(subject, recorder.Handler, options);

        // The process dies holding the message: its connection goes, the handler never acknowledges.
        await dying.Transport.DisposeAsync();

        var redelivered = (await recorder.WaitForCountAsync(1))[0];
        Assert.Equal(id, redelivered.EventId);
        Assert.Equal(2, redelivered.Attempt);
        release.SetResult();
    }

    [Fact]
    public async Task Durable_message_not_acknowledged_within_AckWait_is_delivered_again()
    {
        var subject = Subject("events.todo.newitem");
        await using var bus = await ConnectAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = new Recorder(async (context, ct) =>
        {
            if (context.Attempt == 1)
            {
                await release.Task.WaitAsync(ct);
            }
        });
        var options = Durable(Group("savers")) with { AckWait = TimeSpan.FromMilliseconds(300), MaxConcurrency = 2 };
        await bus.SubscribeAsync(subject, recorder.Handler, options);

        var id = await bus.PublishAsync(subject, new Note("slow"));

        var deliveries = await recorder.WaitForCountAsync(2);
        release.SetResult();
        Assert.All(deliveries, d => Assert.Equal(id, d.EventId));
        Assert.Equal([1, 2], deliveries.Select(d => d.Attempt));
    }

    // ---- retries and dead letters ------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Message_failing_every_try_goes_to_dead_letters_after_MaxDeliver(bool durable)
    {
        var subject = Subject("events.todo.newitem");
        var group = durable ? Group("savers") : null;
        await using var bus = await ConnectAsync();
        await using var watcher = await ConnectAsync();
        var deadLetters = new Recorder();
        await watcher.SubscribeAsync(Subjects.DeadLetterOf(subject), deadLetters.Handler);
        var tries = new Recorder((_, _) => throw new InvalidOperationException("disk full"));
        await bus.SubscribeAsync(subject, tries.Handler, new SubscribeOptions { QueueGroup = group, Durable = durable, Retry = FastRetry });

        var id = await bus.PublishAsync(subject, new Note("doomed"));

        var letter = (await deadLetters.WaitForCountAsync(1))[0];
        Assert.Equal([1, 2, 3], tries.Received.Select(c => c.Attempt));
        Assert.Equal(Subjects.DeadLetterOf(subject), letter.Message.Subject);
        Assert.Equal(id, letter.EventId);
        Assert.Equal("{\"text\":\"doomed\"}", Recorder.TextOf(letter));
        var headers = letter.Message.Headers;
        Assert.Equal("InvalidOperationException: disk full", headers[MessagingHeaders.DeadLetterError]);
        Assert.Equal(group ?? "", headers[MessagingHeaders.DeadLetterGroup] ?? "");
        Assert.Equal("3", headers[MessagingHeaders.DeadLetterAttempts]);
        Assert.Equal(subject, headers[MessagingHeaders.DeadLetterSubject]);
    }

    [Fact]
    public async Task Error_message_of_several_lines_still_makes_a_dead_letter()
    {
        var subject = Subject("events.todo.newitem");
        await using var bus = await ConnectAsync();
        await using var watcher = await ConnectAsync();
        var deadLetters = new Recorder();
        await watcher.SubscribeAsync(Subjects.DeadLetterOf(subject), deadLetters.Handler);
        var failing = new Recorder((_, _) => throw new InvalidOperationException("disk full\r\n at line 2\n at line 3"));
        await bus.SubscribeAsync(subject, failing.Handler, Durable(Group("savers")));

        await bus.PublishAsync(subject, new Note("doomed"));

        // Header values are one line on every transport that has headers.
        var letter = (await deadLetters.WaitForCountAsync(1))[0];
        Assert.Equal("InvalidOperationException: disk full  at line 2  at line 3", letter.Message.Headers[MessagingHeaders.DeadLetterError]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Poison_message_goes_to_dead_letters_after_one_try(bool durable)
    {
        var subject = Subject("events.todo.newitem");
        await using var bus = await ConnectAsync();
        await using var watcher = await ConnectAsync();
        var deadLetters = new Recorder();
        await watcher.SubscribeAsync(Subjects.DeadLetterOf(subject), deadLetters.Handler);
        var handled = 0;
        await bus.SubscribeAsync<Note>(
            subject,
            (_, _) =>
            {
                Interlocked.Increment(ref handled);
                return ValueTask.CompletedTask;
            },
            new SubscribeOptions { QueueGroup = durable ? Group("savers") : null, Durable = durable, Retry = FastRetry });

        await PublishTextAsync(bus, subject, "this is not JSON");

        var letter = (await deadLetters.WaitForCountAsync(1))[0];
        Assert.Equal(0, handled);
        Assert.Equal("this is not JSON", Recorder.TextOf(letter));
        Assert.Equal("1", letter.Message.Headers[MessagingHeaders.DeadLetterAttempts]);
        Assert.StartsWith(nameof(PoisonMessageException), letter.Message.Headers[MessagingHeaders.DeadLetterError]);
    }

    // ---- request-response --------------------------------------------------------------------

    [Fact]
    public async Task Request_gets_the_reply_within_the_timeout()
    {
        var subject = Subject("queries.todo.count");
        await using var requester = await ConnectAsync();
        await using var responder = await ConnectAsync();
        await responder.SubscribeAsync<Note>(subject, (context, ct) => context.ReplyAsync(new Note("re: " + context.Data.Text), ct));

        var reply = await requester.RequestAsync(subject, new Note("how many?"), TimeSpan.FromSeconds(5));

        Assert.Equal("{\"text\":\"re: how many?\"}", Encoding.UTF8.GetString(reply.Data.Span));
        Assert.Equal(subject + ".reply", reply.Type);
    }

    [Fact]
    public async Task Request_with_no_responder_fails_at_once_where_the_transport_can_tell_else_times_out()
    {
        var subject = Subject("queries.todo.count");
        await using var requester = await ConnectAsync();
        var stopwatch = Stopwatch.StartNew();

        if (ReportsNoResponders)
        {
            var error = await Assert.ThrowsAsync<NoRespondersException>(() => requester.RequestAsync(subject, new Note("anyone?"), TimeSpan.FromSeconds(10)));
            Assert.Equal(subject, error.Subject);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
        }
        else
        {
            await Assert.ThrowsAsync<RequestTimeoutException>(() => requester.RequestAsync(subject, new Note("anyone?"), TimeSpan.FromMilliseconds(500)));
        }
    }

    [Fact]
    public async Task Request_to_a_responder_that_never_answers_times_out()
    {
        var subject = Subject("queries.todo.count");
        await using var requester = await ConnectAsync();
        await using var responder = await ConnectAsync();
        var silent = new Recorder();
        await responder.SubscribeAsync(subject, silent.Handler);
        var timeout = TimeSpan.FromMilliseconds(300);
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RequestTimeoutException>(() => requester.RequestAsync(subject, new Note("hello?"), timeout));

        Assert.Equal(subject, error.Subject);
        Assert.InRange(stopwatch.Elapsed, timeout * 0.9, timeout + Wait.Deadline);
        Assert.Single(silent.Received);
    }

    // ---- fire-and-forget ---------------------------------------------------------------------

    [Fact]
    public async Task Command_is_published_without_waiting_for_its_handler()
    {
        var subject = Subject("commands.todo.complete");
        await using var sender = await ConnectAsync();
        await using var worker = await ConnectAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = new Recorder(async (_, ct) => await release.Task.WaitAsync(ct));
        await worker.SubscribeAsync(subject, recorder.Handler, new SubscribeOptions { QueueGroup = "workers" });

        // The handler is blocked until the end: the publish must complete regardless.
        var id = await Wait.For(sender.PublishAsync(subject, new Note("item 7")), "the publish of a command");

        var command = (await recorder.WaitForCountAsync(1))[0];
        release.SetResult();
        Assert.Equal(id, command.EventId);
        Assert.Null(command.Message.ReplyTo);
    }

    // ---- scatter-gather ----------------------------------------------------------------------

    [Fact]
    public async Task Gather_collects_every_responders_reply_within_the_window()
    {
        var subject = Subject("diagnostics.instances");
        await using var requester = await ConnectAsync();
        await using var responders = await StartRespondersAsync(subject, "api", "web", "worker");

        var replies = await requester.GatherAsync(requester.CreateMessage(subject, new Note("who is there?")), new GatherOptions { Window = TimeSpan.FromSeconds(2) });

        Assert.Equal(["api", "web", "worker"], replies.Select(NoteText).Order());
    }

    [Fact]
    public async Task Gather_stops_as_soon_as_MaxReplies_came()
    {
        var subject = Subject("diagnostics.instances");
        await using var requester = await ConnectAsync();
        await using var responders = await StartRespondersAsync(subject, "api", "web", "worker");
        var window = TimeSpan.FromSeconds(10);
        var stopwatch = Stopwatch.StartNew();

        var replies = await requester.GatherAsync(requester.CreateMessage(subject, new Note("who is there?")), new GatherOptions { Window = window, MaxReplies = 2 });

        Assert.Equal(2, replies.Count);
        Assert.True(stopwatch.Elapsed < window / 2, $"took {stopwatch.Elapsed} of a {window} window");
    }

    [Fact]
    public async Task Gather_with_no_responder_returns_an_empty_list()
    {
        var subject = Subject("diagnostics.instances");
        await using var requester = await ConnectAsync();
        var window = ReportsNoResponders ? TimeSpan.FromSeconds(10) : TimeSpan.FromMilliseconds(300);
        var stopwatch = Stopwatch.StartNew();

        var replies = await requester.GatherAsync(requester.CreateMessage(subject, new Note("who is there?")), new GatherOptions { Window = window });

        Assert.Empty(replies);
        if (ReportsNoResponders)
        {
            Assert.True(stopwatch.Elapsed < window / 2, $"took {stopwatch.Elapsed}: the no-responders status should end the window");
        }
    }

    // ---- headers -----------------------------------------------------------------------------

    [Fact]
    public async Task Headers_are_preserved_end_to_end()
    {
        var subject = Subject("events.todo.newitem");
        await using var publisher = await ConnectAsync();
        await using var subscriber = await ConnectAsync();
        var recorder = new Recorder();
        await subscriber.SubscribeAsync(subject, recorder.Handler);

        var custom = new MessageHeaders { ["x-tenant"] = "acme", ["x-request-id"] = "r-42" };
        var id = await publisher.PublishAsync(subject, new Note("milk"), new PublishOptions { Type = "todo.item.added", Headers = custom });

        var headers = (await recorder.WaitForCountAsync(1))[0].Message.Headers;
        Assert.Equal("acme", headers["x-tenant"]);
        Assert.Equal("r-42", headers["x-request-id"]);
        Assert.Equal(id, headers[CloudEventHeaders.Id]);
        Assert.Equal("todo.item.added", headers[CloudEventHeaders.Type]);
        Assert.Equal("/todo", headers[CloudEventHeaders.Source]);
        Assert.Equal("1.0", headers[CloudEventHeaders.SpecVersion]);
        Assert.Equal("application/json", headers[CloudEventHeaders.DataContentType]);
        Assert.True(DateTimeOffset.TryParse(headers[CloudEventHeaders.Time], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _));
    }

    [Fact]
    public async Task Raw_payload_without_headers_arrives_as_raw_data()
    {
        var subject = Subject("events.todo.newitem");
        await using var publisher = await ConnectAsync();
        await using var subscriber = await ConnectAsync();
        var recorder = new Recorder();
        await subscriber.SubscribeAsync(subject, recorder.Handler);

        await PublishTextAsync(publisher, subject, "{\"item\":\"milk\"}");

        var received = (await recorder.WaitForCountAsync(1))[0];
        Assert.Equal("{\"item\":\"milk\"}", Recorder.TextOf(received));
        Assert.Null(received.EventId);
        Assert.Null(received.Message.Headers[CloudEventHeaders.Type]);
    }

    // ---- ordering ----------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task One_publisher_one_subject_one_subscriber_keeps_the_order(bool durable)
    {
        var subject = Subject("events.todo.newitem");
        await using var publisher = await ConnectAsync();
        await using var subscriber = await ConnectAsync();
        var recorder = new Recorder();
        var options = durable ? Durable(Group("savers")) : new SubscribeOptions();
        await subscriber.SubscribeAsync(subject, recorder.Handler, options with { MaxConcurrency = 1 });

        var sent = Enumerable.Range(0, 1000).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        foreach (var text in sent)
        {
            await PublishTextAsync(publisher, subject, text);
        }

        await recorder.WaitForCountAsync(sent.Count);
        Assert.Equal(sent, recorder.Texts);
    }

    // ---- payload size ------------------------------------------------------------------------

    [Fact]
    public async Task Payload_of_exactly_1_MiB_is_delivered()
    {
        var subject = Subject("events.todo.attachment");
        await using var publisher = await ConnectAsync();
        await using var subscriber = await ConnectAsync();
        var recorder = new Recorder();
        await subscriber.SubscribeAsync(subject, recorder.Handler);
        var data = new byte[MiB];
        new Random(7).NextBytes(data);

        await publisher.PublishAsync(new Message(subject, data));

        var received = (await recorder.WaitForCountAsync(1))[0];
        Assert.True(received.Message.Data.Span.SequenceEqual(data), "the 1 MiB payload changed on the way");
    }

    [Fact]
    public async Task Payload_over_1_MiB_fails_at_publish_with_a_clear_error()
    {
        var subject = Subject("events.todo.attachment");
        await using var publisher = await ConnectAsync();
        await using var subscriber = await ConnectAsync();
        var recorder = new Recorder();
        await subscriber.SubscribeAsync(subject, recorder.Handler);

        var error = await Assert.ThrowsAsync<MessageTooLargeException>(() => publisher.PublishAsync(new Message(subject, new byte[MiB + 1])).AsTask());

        Assert.Contains((MiB + 1).ToString(CultureInfo.InvariantCulture), error.Message);
        await PublishTextAsync(publisher, subject, "marker");
        await recorder.WaitForTextAsync("marker");
        Assert.Equal(["marker"], recorder.Texts);
    }

    // ---- back-pressure -----------------------------------------------------------------------

    [Fact]
    public async Task Blocked_subscriber_with_a_small_buffer_loses_no_message()
    {
        var subject = Subject("events.todo.newitem");
        await using var publisher = await ConnectAsync();
        await using var subscriber = await ConnectAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = new Recorder(async (context, ct) =>
        {
            if (Recorder.TextOf(context) == "0")
            {
                await release.Task.WaitAsync(ct);
            }
        });
        await subscriber.SubscribeAsync(subject, recorder.Handler, new SubscribeOptions { Capacity = 4, MaxConcurrency = 1 });

        await PublishTextAsync(publisher, subject, "0");
        await recorder.WaitForTextAsync("0");
        for (var i = 1; i <= 4; i++)
        {
            await Wait.For(PublishTextAsync(publisher, subject, i.ToString(CultureInfo.InvariantCulture)), "a publish into a buffer with room");
        }

        // The handler holds message 0 and the buffer holds 1-4: the sixth has nowhere to go.
        var sixth = PublishTextAsync(publisher, subject, "5");
        if (PublisherWaitsForFullSubscriber)
        {
            Assert.False(sixth.IsCompleted, "a publish into a full subscriber buffer completed instead of waiting");
        }

        var rest = PublishRangeAfterAsync(sixth, publisher, subject, from: 6, to: 19);
        release.SetResult();

        await Wait.For(rest, "the publisher to go on once the subscriber took messages again");
        await recorder.WaitForCountAsync(20);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i.ToString(CultureInfo.InvariantCulture)), recorder.Texts);
    }

    // ---- the broker's view (diagnostics) -----------------------------------------------------

    [Fact]
    public async Task The_broker_view_shows_a_groups_lag_its_consumers_and_the_subscribers_of_a_subject()
    {
        var subject = Subject("events.todo.newitem");
        var plain = Subject("events.todo.plain");
        var group = Group("savers");
        await using var bus = await ConnectAsync();
        await bus.DeclareDurableGroupAsync(subject, group);
        foreach (var i in Enumerable.Range(0, 3))
        {
            await PublishTextAsync(bus, subject, $"item {i}");
        }

        // Nobody consumes yet: all three wait, as the broker counts them.
        var idle = await InspectUntilAsync(bus, v => GroupIn(v, group) is { Pending: 3 }, $"group {group} with 3 waiting");
        Assert.True(GroupIn(idle, group)!.Consumers is null or 0, $"consumers before any member: {GroupIn(idle, group)}");

        // A member takes them and holds the first: fewer wait, a consumer shows.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new Recorder(async (_, _) => await release.Task);
        await using var member = await ConnectAsync();
        await member.SubscribeAsync(subject, handled.Handler, Durable(group));
        await member.SubscribeAsync(plain, new Recorder().Handler);
        var busy = await InspectUntilAsync(bus, v => GroupIn(v, group) is { Pending: < 3, Consumers: >= 1 }, $"group {group} consumed by a member");
        Assert.Equal(subject, GroupIn(busy, group)!.Subject, StringComparer.Ordinal);
        if (ShowsSubscribers)
        {
            await InspectUntilAsync(bus, v => v.Subscribers.Any(s => s.Subject.Contains(plain, StringComparison.Ordinal) && s.Subscribers >= 1), $"a subscriber on {plain}");
        }

        // Once everything is acknowledged nothing waits and nothing is held.
        release.SetResult();
        await handled.WaitForCountAsync(3);
        await InspectUntilAsync(bus, v => GroupIn(v, group) is { Pending: 0, Unacknowledged: null or 0 }, $"group {group} drained");
    }

    private static GroupState? GroupIn(BrokerView view, string group) => view.Groups.FirstOrDefault(g => g.Group == group);

    /// <summary>Reads the broker's view until <paramref name="done"/>: brokers count a moment after the fact.</summary>
    private static async Task<BrokerView> InspectUntilAsync(MessageBus bus, Func<BrokerView, bool> done, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var view = await bus.InspectBrokerAsync();
            if (done(view))
            {
                return view;
            }

            Assert.True(deadline.Elapsed < Wait.Deadline, $"The broker view never showed {what}: groups {string.Join("; ", view.Groups)}; subscribers {string.Join("; ", view.Subscribers)}; notes {string.Join(" ", view.Notes)}");
            await Task.Delay(100);
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    /// <summary>A subject unique to this test.</summary>
    protected string Subject(string name) => $"{_prefix}.{name}";

    /// <summary>A durable group name unique to this test (no dots: brokers name consumers with it).</summary>
    protected string Group(string name) => $"{_prefix}-{name}";

    protected static SubscribeOptions Durable(string group) => new() { QueueGroup = group, Durable = true, Retry = FastRetry };

    /// <summary>A bus on a new connection to this test's broker, as another process would have.</summary>
    protected async Task<MessageBus> ConnectAsync()
    {
        var fixture = _fixture ?? throw new InvalidOperationException("The test has not started.");
        var bus = new MessageBus(await fixture.ConnectAsync(), new MessagingOptions { Retry = FastRetry });
        await bus.ConnectAsync();
        return bus;
    }

    protected static Task PublishTextAsync(MessageBus bus, string subject, string text) =>
        bus.PublishAsync(new Message(subject, Encoding.UTF8.GetBytes(text))).AsTask();

    /// <summary>
    /// Returns once what <paramref name="publisher"/> published so far has reached the broker: a
    /// client may return from a publish while the message is still in its send buffer (NATS's does),
    /// but a probe published after it and received back was sent after it, on the same connection.
    /// </summary>
    protected async Task ReachedBrokerAsync(MessageBus publisher)
    {
        var probe = Subject("probe." + Nuid.Next());
        var recorder = new Recorder();
        await using var subscription = await publisher.SubscribeAsync(probe, recorder.Handler);
        await PublishTextAsync(publisher, probe, "probe");
        await recorder.WaitForTextAsync("probe");
    }

    private static async Task PublishRangeAfterAsync(Task first, MessageBus bus, string subject, int from, int to)
    {
        await first;
        for (var i = from; i <= to; i++)
        {
            await PublishTextAsync(bus, subject, i.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static string NoteText(Message message) =>
        JsonSerializer.Deserialize<Note>(message.Data.Span, new JsonSerializerOptions(JsonSerializerDefaults.Web))!.Text;

    private static List<string> Jobs(IEnumerable<Recorder> members) =>
        members.SelectMany(m => m.Texts).Where(t => t.StartsWith("job ", StringComparison.Ordinal)).ToList();

    /// <summary>
    /// Members receive in order, so once every member has seen a marker published after the
    /// messages, each has seen all of them it will ever get: nothing is still on its way.
    /// </summary>
    private static async Task SettleAsync(MessageBus publisher, string subject, IReadOnlyList<Recorder> members)
    {
        for (var i = 0; !members.All(m => m.Texts.Any(t => t.StartsWith("marker ", StringComparison.Ordinal))); i++)
        {
            Assert.True(i < 200, "200 markers and a member still saw none of them");
            var marker = $"marker {i}";
            await PublishTextAsync(publisher, subject, marker);
            await Wait.For(Task.WhenAny(members.Select(m => m.When(r => r.Any(c => Recorder.TextOf(c) == marker)))), $"'{marker}' at one member");
        }
    }

    private async Task<Processes> StartGroupAsync(string subject, string group, int count)
    {
        var members = new Processes();
        for (var i = 0; i < count; i++)
        {
            var bus = await ConnectAsync();
            var recorder = new Recorder();
            members.Buses.Add(bus);
            members.Recorders.Add(recorder);
            await bus.SubscribeAsync(subject, recorder.Handler, new SubscribeOptions { QueueGroup = group, MaxConcurrency = 1 });
        }

        return members;
    }

    private async Task<Processes> StartRespondersAsync(string subject, params string[] names)
    {
        var responders = new Processes();
        foreach (var name in names)
        {
            var bus = await ConnectAsync();
            responders.Buses.Add(bus);
            await bus.SubscribeAsync(subject, (context, ct) => context.ReplyAsync(new Note(name), ct));
        }

        return responders;
    }

    /// <summary>Buses standing for several processes, each with what it recorded.</summary>
    private sealed class Processes : IAsyncDisposable
    {
        public List<MessageBus> Buses { get; } = [];

        public List<Recorder> Recorders { get; } = [];

        public async ValueTask DisposeAsync()
        {
            foreach (var bus in Buses)
            {
                await bus.DisposeAsync();
            }
        }
    }
}

/// <summary>A typed payload for the tests.</summary>
public sealed record Note(string Text);
