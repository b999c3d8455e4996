using System.Diagnostics;
using System.Text;
using ToDoList.Messaging.Embedded;
using ToDoList.Messaging.Tests.Conformance;

namespace ToDoList.Messaging.Tests;

public sealed class MessageBusTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public async Task Typed_publish_sends_JSON_with_CloudEvents_headers()
    {
        var transport = new RecordingTransport();
        await using var bus = new MessageBus(transport, new MessagingOptions { Source = "/tests" }, timeProvider: new FixedTimeProvider(Now));

        var id = await bus.PublishAsync("events.todo.newitem", new Note("milk"));

        var message = Assert.Single(transport.Published);
        Assert.Equal("events.todo.newitem", message.Subject);
        Assert.Equal("{\"text\":\"milk\"}", Encoding.UTF8.GetString(message.Data.Span));
        Assert.Equal(id, message.Headers[CloudEventHeaders.Id]);
        Assert.Equal(22, id.Length);
        Assert.Equal("events.todo.newitem", message.Headers[CloudEventHeaders.Type]);
        Assert.Equal("/tests", message.Headers[CloudEventHeaders.Source]);
        Assert.Equal("1.0", message.Headers[CloudEventHeaders.SpecVersion]);
        Assert.Equal("2026-01-02T03:04:05.0000000+00:00", message.Headers[CloudEventHeaders.Time]);
        Assert.Equal("application/json", message.Headers[CloudEventHeaders.DataContentType]);
        Assert.Null(message.ReplyTo);
    }

    [Fact]
    public async Task Publish_options_name_the_id_and_type_and_add_headers()
    {
        var transport = new RecordingTransport();
        await using var bus = new MessageBus(transport);

        var id = await bus.PublishAsync("events.todo.newitem", new Note("milk"), new PublishOptions
        {
            Id = "evt-1",
            Type = "todo.item.added",
            Headers = new MessageHeaders { ["x-tenant"] = "acme" },
        });

        var message = Assert.Single(transport.Published);
        Assert.Equal("evt-1", id);
        Assert.Equal("evt-1", message.Id);
        Assert.Equal("todo.item.added", message.Type);
        Assert.Equal("acme", message.Headers["x-tenant"]);
    }

    [Fact]
    public async Task Every_typed_publish_has_a_new_id()
    {
        var transport = new RecordingTransport();
        await using var bus = new MessageBus(transport);

        for (var i = 0; i < 100; i++)
        {
            await bus.PublishAsync("events.todo.newitem", new Note("milk"));
        }

        Assert.Equal(100, transport.Published.Select(m => m.Id).Distinct().Count());
    }

    [Fact]
    public async Task Raw_message_is_published_without_headers()
    {
        var transport = new RecordingTransport();
        await using var bus = new MessageBus(transport);

        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("{\"item\":\"milk\"}")));

        var message = Assert.Single(transport.Published);
        Assert.False(message.HasHeaders);
        Assert.Null(message.Id);
    }

    [Fact]
    public async Task Active_trace_travels_as_traceparent()
    {
        var transport = new RecordingTransport();
        await using var bus = new MessageBus(transport);
        using var activity = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();

        await bus.PublishAsync("events.todo.newitem", new Note("milk"));

        Assert.Equal(activity.Id, Assert.Single(transport.Published).Headers[CloudEventHeaders.TraceParent]);
    }

    [Fact]
    public async Task Payload_over_the_limit_throws_MessageTooLargeException_and_sends_nothing()
    {
        var transport = new RecordingTransport();
        await using var bus = new MessageBus(transport);

        await bus.PublishAsync(new Message("files", new byte[1024 * 1024]));
        var error = await Assert.ThrowsAsync<MessageTooLargeException>(() => bus.PublishAsync(new Message("files", new byte[(1024 * 1024) + 1])).AsTask());

        Assert.Equal("The message on 'files' is 1048577 bytes; the limit is 1048576 bytes.", error.Message);
        Assert.Single(transport.Published);
    }

    [Fact]
    public async Task Typed_payload_over_a_configured_limit_throws_MessageTooLargeException()
    {
        var transport = new RecordingTransport();
        await using var bus = new MessageBus(transport, new MessagingOptions { MaxPayloadBytes = 10 });

        await Assert.ThrowsAsync<MessageTooLargeException>(() => bus.PublishAsync("events.todo.newitem", new Note("a long enough text")).AsTask());

        Assert.Empty(transport.Published);
    }

    [Theory]
    [InlineData("events.todo.*")]
    [InlineData("events..newitem")]
    public async Task Publish_to_an_invalid_subject_throws_ArgumentException(string subject)
    {
        var transport = new RecordingTransport();
        await using var bus = new MessageBus(transport);

        await Assert.ThrowsAsync<ArgumentException>(() => bus.PublishAsync(subject, new Note("milk")).AsTask());

        Assert.Empty(transport.Published);
    }

    [Fact]
    public async Task Bare_JSON_without_headers_reaches_a_typed_handler()
    {
        await using var bus = new MessageBus(new EmbeddedTransport());
        var received = new TaskCompletionSource<MessageContext<NewItem>>(TaskCreationOptions.RunContinuationsAsynchronously);
        await bus.SubscribeAsync<NewItem>("events.todo.newitem", (context, _) =>
        {
            received.TrySetResult(context);
            return ValueTask.CompletedTask;
        });

        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("{\"item\":\"milk\"}")));

        var context = await Wait.For(received.Task, "the bare JSON item");
        Assert.Equal("milk", context.Data.Item);
        Assert.Null(context.EventId);
        Assert.False(context.Message.HasHeaders);
    }

    [Fact]
    public async Task Durable_subscription_needs_a_queue_group()
    {
        await using var bus = new MessageBus(new EmbeddedTransport());

        await Assert.ThrowsAsync<ArgumentException>(() => bus.SubscribeAsync("events.todo.newitem", new Recorder().Handler, new SubscribeOptions { Durable = true }).AsTask());
    }

    [Fact]
    public async Task Statistics_count_what_was_published_handled_failed_and_dead_lettered()
    {
        var bus = new MessageBus(new EmbeddedTransport(), new MessagingOptions { Retry = new RetryPolicy { MaxDeliver = 2, InitialDelay = TimeSpan.FromMilliseconds(1) } });
        var deadLetters = new Recorder();
        await bus.SubscribeAsync("deadletter.>", deadLetters.Handler);
        var handler = new Recorder((context, _) => Recorder.TextOf(context) == "bad" ? throw new InvalidOperationException("no") : ValueTask.CompletedTask);
        await bus.SubscribeAsync("events.todo.newitem", handler.Handler);

        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("bad")));
        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("good")));
        await deadLetters.WaitForCountAsync(1);
        await handler.WaitForTextAsync("good");

        // Disposing drains the handlers, so every count is final.
        await bus.DisposeAsync();

        // Published: bad, good and the dead letter. Handled: good and the dead letter. Failed: bad, twice.
        Assert.Equal(new MessagingStatistics(Published: 3, Handled: 2, Failed: 2, DeadLettered: 1), bus.Statistics);
    }

    [Fact]
    public async Task Transient_failures_are_tried_past_MaxDeliver_and_the_message_is_handled_once_the_outage_ends()
    {
        var retry = new RetryPolicy { MaxDeliver = 2, InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), IsTransient = e => e is TimeoutException, MaxTransientDeliver = 50 };
        await using var bus = new MessageBus(new EmbeddedTransport(), new MessagingOptions { Retry = retry });
        var deadLetters = new Recorder();
        await bus.SubscribeAsync("deadletter.>", deadLetters.Handler);
        var tries = 0;
        // The database is down for the first 10 tries: five times MaxDeliver.
        var handler = new Recorder((_, _) => Interlocked.Increment(ref tries) <= 10 ? throw new TimeoutException("database down") : ValueTask.CompletedTask);
        await bus.SubscribeAsync("events.todo.newitem", handler.Handler, new SubscribeOptions { QueueGroup = "savers", Durable = true });

        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("milk")));

        var handled = await handler.WaitForCountAsync(11);
        Assert.Equal(11, handled[^1].Attempt);
        Assert.Empty(deadLetters.Received);
    }

    [Fact]
    public async Task Transient_failures_end_in_the_dead_letters_after_MaxTransientDeliver()
    {
        var retry = new RetryPolicy { MaxDeliver = 2, InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2), IsTransient = e => e is TimeoutException, MaxTransientDeliver = 6 };
        await using var bus = new MessageBus(new EmbeddedTransport(), new MessagingOptions { Retry = retry });
        var deadLetters = new Recorder();
        await bus.SubscribeAsync("deadletter.>", deadLetters.Handler);
        var handler = new Recorder((_, _) => throw new TimeoutException("down for good"));
        await bus.SubscribeAsync("events.todo.newitem", handler.Handler, new SubscribeOptions { QueueGroup = "savers", Durable = true });

        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("milk")));

        var letter = (await deadLetters.WaitForCountAsync(1))[0];
        Assert.Equal("6", letter.Message.Headers[MessagingHeaders.DeadLetterAttempts]);
        Assert.Equal(6, handler.Received.Count);
    }

    [Fact]
    public async Task Disposing_a_subscription_lets_the_handler_finish_the_message_in_hand()
    {
        await using var bus = new MessageBus(new EmbeddedTransport());
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = false;
        var recorder = new Recorder(async (_, ct) =>
        {
            await release.Task.WaitAsync(ct);
            cancelled = ct.IsCancellationRequested;
        });
        var subscription = await bus.SubscribeAsync("events.todo.newitem", recorder.Handler);
        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("in hand")));
        await recorder.WaitForCountAsync(1);

        var disposing = subscription.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted, "the subscription was gone while its handler still worked");
        release.SetResult();

        await Wait.For(disposing, "the subscription to drain");
        Assert.False(cancelled);
    }

    [Fact]
    public async Task Subscription_goes_on_when_the_transport_cannot_acknowledge()
    {
        await using var bus = new MessageBus(new FailingAcknowledgementTransport(new EmbeddedTransport()));
        var recorder = new Recorder();
        await bus.SubscribeAsync("events.todo.newitem", recorder.Handler, new SubscribeOptions { QueueGroup = "savers", Durable = true });

        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("first")));
        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("second")));

        // The first was handled once; failing to acknowledge it is not a handler failure.
        await recorder.WaitForTextAsync("second");
        Assert.Equal(["first", "second"], recorder.Texts);
        Assert.Equal(0, bus.Statistics.Failed);
    }

    [Fact]
    public async Task Subscription_goes_on_when_the_transport_cannot_take_a_failed_message_back()
    {
        await using var bus = new MessageBus(new FailingAcknowledgementTransport(new EmbeddedTransport()));
        var recorder = new Recorder((context, _) => Recorder.TextOf(context) == "first" ? throw new InvalidOperationException("no") : ValueTask.CompletedTask);
        await bus.SubscribeAsync("events.todo.newitem", recorder.Handler, new SubscribeOptions { QueueGroup = "savers", Durable = true });

        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("first")));
        await bus.PublishAsync(new Message("events.todo.newitem", Encoding.UTF8.GetBytes("second")));

        await recorder.WaitForTextAsync("second");
        Assert.Equal(["first", "second"], recorder.Texts);
    }

    private sealed record NewItem(string Item);
}
