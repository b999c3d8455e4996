using System.Text;
using Microsoft.Extensions.DependencyInjection;
using ToDoList.Messaging.DeadLetters;
using ToDoList.Messaging.Embedded;
using ToDoList.Messaging.Hosting;
using ToDoList.Messaging.Tests.Conformance;

namespace ToDoList.Messaging.Tests;

public sealed class DeadLetterStoreTests : IAsyncLifetime
{
    private const string Subject = "events.todo.newitem";
    private static readonly RetryPolicy FastRetry = new() { MaxDeliver = 2, InitialDelay = TimeSpan.FromMilliseconds(5) };

    private readonly Recorder _stored = new();
    private ServiceProvider _services = null!;
    private MessageBus _bus = null!;
    private DeadLetterStore _store = null!;

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection()
            .AddLogging()
            .AddMessaging(_ => new MessagingOptions { Url = "memory://", Retry = FastRetry })
            .AddDeadLetterStore()
            .BuildServiceProvider();
        _bus = _services.GetRequiredService<MessageBus>();
        _store = _services.GetRequiredService<DeadLetterStore>();

        // What the host would open for AddDeadLetterStore, noting each letter once the store has it.
        var registration = _services.GetServices<HandlerRegistration>().Single(r => r.Subject == "deadletter.>");
        var keep = registration.CreateHandler(_services);
        await _bus.SubscribeAsync(registration.Subject, async (context, ct) =>
        {
            await keep(context, ct);
            await _stored.Handler(context, ct);
        }, registration.Options);
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public void Store_keeps_dead_letters_of_every_subject_in_a_durable_group()
    {
        var registration = _services.GetServices<HandlerRegistration>().Single(r => r.Subject == "deadletter.>");

        Assert.True(registration.Options.Durable);
        Assert.Equal(DeadLetterStore.QueueGroup, registration.Options.QueueGroup);
    }

    [Fact]
    public async Task Dead_letter_is_listed_with_why_it_failed()
    {
        await _bus.SubscribeAsync(Subject, (_, _) => throw new InvalidOperationException("database is read-only"));

        var id = await _bus.PublishAsync(Subject, new Note("milk"));
        await _stored.WaitForCountAsync(1);

        var letter = Assert.Single(await _store.ListAsync());
        Assert.Equal(Subject, letter.Subject);
        Assert.Equal(id, letter.EventId);
        Assert.Equal("InvalidOperationException: database is read-only", letter.Error);
        Assert.Null(letter.QueueGroup);
        Assert.Equal(2, letter.Attempts);
        Assert.Equal("{\"text\":\"milk\"}", letter.DataPreview);
        Assert.Same(letter, await _store.GetAsync(letter.Id));
    }

    [Fact]
    public async Task Replay_publishes_the_message_again_as_it_first_came_and_forgets_the_letter()
    {
        var fixedNow = false;
        var handler = new Recorder((_, _) => Volatile.Read(ref fixedNow) ? ValueTask.CompletedTask : throw new InvalidOperationException("bug"));
        await _bus.SubscribeAsync(Subject, handler.Handler, new SubscribeOptions { QueueGroup = "savers", Durable = true });
        var id = await _bus.PublishAsync(Subject, new Note("milk"));
        await _stored.WaitForCountAsync(1);
        var letter = Assert.Single(await _store.ListAsync());
        Assert.Equal("savers", letter.QueueGroup);

        Volatile.Write(ref fixedNow, true);
        var tries = handler.Received.Count;
        Assert.True(await _store.ReplayAsync(letter.Id));

        // The failed tries carry the same text: the replay is the delivery after them.
        var replayed = (await handler.WaitForCountAsync(tries + 1))[tries];
        Assert.Equal(id, replayed.EventId);
        Assert.Equal(1, replayed.Attempt);
        Assert.DoesNotContain(replayed.Message.Headers, h => h.Key.StartsWith("deadletter-", StringComparison.Ordinal));
        Assert.Empty(await _store.ListAsync());
        Assert.False(await _store.ReplayAsync(letter.Id));
    }

    [Fact]
    public async Task Delete_forgets_a_dead_letter()
    {
        await _bus.SubscribeAsync(Subject, (_, _) => throw new InvalidOperationException("no"));
        await _bus.PublishAsync(Subject, new Note("a"));
        await _bus.PublishAsync(Subject, new Note("b"));
        await _stored.WaitForCountAsync(2);
        var first = (await _store.ListAsync())[0];

        Assert.True(await _store.DeleteAsync(first.Id));

        Assert.False(await _store.DeleteAsync(first.Id));
        Assert.Null(await _store.GetAsync(first.Id));
        Assert.Equal(1, await _store.CountAsync());
    }

    [Fact]
    public async Task Replaying_a_letter_twice_at_once_publishes_it_once()
    {
        var transport = new RecordingTransport();
        await using var bus = new MessageBus(transport);
        var store = new DeadLetterStore(bus, new MemoryDeadLetterRepository());
        await store.AddAsync(new Message(Subjects.DeadLetterOf(Subject), Encoding.UTF8.GetBytes("milk")));
        var id = Assert.Single(await store.ListAsync()).Id;
        var hold = transport.HoldNextPublish();

        var first = store.ReplayAsync(id).AsTask();
        var second = await store.ReplayAsync(id);
        hold.SetResult();

        Assert.True(await Wait.For(first, "the first replay"));
        Assert.False(second);
        var replayed = Assert.Single(transport.Published);
        Assert.Equal(Subject, replayed.Subject);
        Assert.Equal(0, await store.CountAsync());
    }

    [Fact]
    public async Task Replay_that_cannot_be_published_keeps_the_letter()
    {
        await using var bus = new MessageBus(new RecordingTransport(), new MessagingOptions { MaxPayloadBytes = 2 });
        var store = new DeadLetterStore(bus, new MemoryDeadLetterRepository());
        await store.AddAsync(new Message(Subjects.DeadLetterOf(Subject), Encoding.UTF8.GetBytes("milk")));
        var id = Assert.Single(await store.ListAsync()).Id;

        await Assert.ThrowsAsync<MessageTooLargeException>(() => store.ReplayAsync(id).AsTask());

        Assert.NotNull(await store.GetAsync(id));
    }

    [Fact]
    public async Task Full_store_forgets_the_oldest_letter()
    {
        await using var bus = new MessageBus(new EmbeddedTransport());
        var store = new DeadLetterStore(bus, new MemoryDeadLetterRepository { Capacity = 2 });

        foreach (var text in new[] { "first", "second", "third" })
        {
            await store.AddAsync(new Message(Subjects.DeadLetterOf(Subject), Encoding.UTF8.GetBytes(text)));
        }

        Assert.Equal(["second", "third"], (await store.ListAsync()).Select(l => l.DataPreview));
    }

    [Fact]
    public async Task Dead_letter_delivered_again_is_kept_once()
    {
        await using var bus = new MessageBus(new EmbeddedTransport());
        var store = new DeadLetterStore(bus, new MemoryDeadLetterRepository());
        var headers = new MessageHeaders { [MessagingHeaders.DeadLetterId] = "dl-1", [MessagingHeaders.DeadLetterError] = "boom" };

        await store.AddAsync(new Message(Subjects.DeadLetterOf(Subject), Encoding.UTF8.GetBytes("milk"), headers));
        await store.AddAsync(new Message(Subjects.DeadLetterOf(Subject), Encoding.UTF8.GetBytes("milk"), headers.Clone()));

        var letter = Assert.Single(await store.ListAsync());
        Assert.Equal("dl-1", letter.Id);
        Assert.Equal("boom", letter.Error);
    }

    [Fact]
    public async Task List_filters_by_subject_with_wildcards()
    {
        await using var bus = new MessageBus(new EmbeddedTransport());
        var store = new DeadLetterStore(bus, new MemoryDeadLetterRepository());
        foreach (var subject in new[] { "events.todo.newitem", "commands.todo.complete", "events.todo.itemsaved" })
        {
            await store.AddAsync(new Message(Subjects.DeadLetterOf(subject), Encoding.UTF8.GetBytes(subject)));
        }

        Assert.Equal(["events.todo.newitem", "events.todo.itemsaved"], (await store.ListAsync("events.>")).Select(l => l.Subject));
        Assert.Equal(["commands.todo.complete"], (await store.ListAsync("commands.todo.complete")).Select(l => l.Subject));
        Assert.Equal(2, await store.DeleteAllAsync("events.todo.*"));
        Assert.Equal(["commands.todo.complete"], (await store.ListAsync()).Select(l => l.Subject));
    }

    [Fact]
    public async Task Admin_over_the_queue_lists_shows_replays_and_deletes()
    {
        var replayed = new Recorder();
        await using var replays = await _bus.SubscribeAsync(Subject, replayed.Handler);
        var registration = _services.GetServices<HandlerRegistration>().Single(r => r.Subject == DeadLetterAdmin.Subject);
        Assert.Equal(DeadLetterAdmin.QueueGroup, registration.Options.QueueGroup);
        await using var keeper = await _bus.SubscribeAsync(registration.Subject, registration.CreateHandler(_services), registration.Options);
        foreach (var text in new[] { "first", "second", "third" })
        {
            await _bus.PublishAsync(new Message(Subjects.DeadLetterOf(Subject), Encoding.UTF8.GetBytes(text), new MessageHeaders { [MessagingHeaders.DeadLetterError] = "no " + text }));
        }

        await _stored.WaitForCountAsync(3);
        var admin = new DeadLetterAdmin(_bus);

        var listed = await admin.ListAsync();
        Assert.Equal(["first", "second", "third"], listed.Select(l => l.Preview));
        Assert.Equal(["no first", "no second", "no third"], listed.Select(l => l.Error));
        var shown = await admin.ShowAsync(listed[0].Id);
        Assert.Equal("first", shown!.Data);
        Assert.Equal("no first", shown.Headers[MessagingHeaders.DeadLetterError]);
        Assert.Null(await admin.ShowAsync("no-such-letter"));

        Assert.Equal(1, await admin.ReplayAsync(listed[0].Id));
        Assert.Equal("first", System.Text.Encoding.UTF8.GetString((await replayed.WaitForCountAsync(1))[0].Message.Data.Span));
        Assert.Equal(1, await admin.DeleteAsync(listed[1].Id));
        Assert.Equal(0, await admin.DeleteAsync(listed[1].Id));
        Assert.Equal(1, await admin.ReplayAsync(null));
        Assert.Empty(await admin.ListAsync());
        await Assert.ThrowsAsync<MessagingException>(() => admin.ListAsync("not a subject"));
    }
}
