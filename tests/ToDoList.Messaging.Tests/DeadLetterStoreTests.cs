using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
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

        var letter = Assert.Single(_store.List());
        Assert.Equal(Subject, letter.Subject);
        Assert.Equal(id, letter.EventId);
        Assert.Equal("InvalidOperationException: database is read-only", letter.Error);
        Assert.Null(letter.QueueGroup);
        Assert.Equal(2, letter.Attempts);
        Assert.Equal("{\"text\":\"milk\"}", letter.DataPreview);
        Assert.Same(letter, _store.Get(letter.Id));
    }

    [Fact]
    public async Task Replay_publishes_the_message_again_as_it_first_came_and_forgets_the_letter()
    {
        var fixedNow = false;
        var handler = new Recorder((_, _) => Volatile.Read(ref fixedNow) ? ValueTask.CompletedTask : throw new InvalidOperationException("bug"));
        await _bus.SubscribeAsync(Subject, handler.Handler, new SubscribeOptions { QueueGroup = "savers", Durable = true });
        var id = await _bus.PublishAsync(Subject, new Note("milk"));
        await _stored.WaitForCountAsync(1);
        var letter = Assert.Single(_store.List());
        Assert.Equal("savers", letter.QueueGroup);

        Volatile.Write(ref fixedNow, true);
        var tries = handler.Received.Count;
        Assert.True(await _store.ReplayAsync(letter.Id));

        // The failed tries carry the same text: the replay is the delivery after them.
        var replayed = (await handler.WaitForCountAsync(tries + 1))[tries];
        Assert.Equal(id, replayed.EventId);
        Assert.Equal(1, replayed.Attempt);
        Assert.DoesNotContain(replayed.Message.Headers, h => h.Key.StartsWith("deadletter-", StringComparison.Ordinal));
        Assert.Empty(_store.List());
        Assert.False(await _store.ReplayAsync(letter.Id));
    }

    [Fact]
    public async Task Delete_forgets_a_dead_letter()
    {
        await _bus.SubscribeAsync(Subject, (_, _) => throw new InvalidOperationException("no"));
        await _bus.PublishAsync(Subject, new Note("a"));
        await _bus.PublishAsync(Subject, new Note("b"));
        await _stored.WaitForCountAsync(2);
        var first = _store.List()[0];

        Assert.True(_store.Delete(first.Id));

        Assert.False(_store.Delete(first.Id));
        Assert.Null(_store.Get(first.Id));
        Assert.Equal(1, _store.Count);
    }

    [Fact]
    public async Task Replaying_a_letter_twice_at_once_publishes_it_once()
    {
        var transport = new RecordingTransport();
        await using var bus = new MessageBus(transport);
        var store = new DeadLetterStore(bus, NullLogger<DeadLetterStore>.Instance);
        await store.Add(new Message(Subjects.DeadLetterOf(Subject), Encoding.UTF8.GetBytes("milk")));
        var id = Assert.Single(store.List()).Id;
        var hold = transport.HoldNextPublish();

        var first = store.ReplayAsync(id).AsTask();
        var second = await store.ReplayAsync(id);
        hold.SetResult();

        Assert.True(await Wait.For(first, "the first replay"));
        Assert.False(second);
        var replayed = Assert.Single(transport.Published);
        Assert.Equal(Subject, replayed.Subject);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task Replay_that_cannot_be_published_keeps_the_letter()
    {
        await using var bus = new MessageBus(new RecordingTransport(), new MessagingOptions { MaxPayloadBytes = 2 });
        var store = new DeadLetterStore(bus, NullLogger<DeadLetterStore>.Instance);
        await store.Add(new Message(Subjects.DeadLetterOf(Subject), Encoding.UTF8.GetBytes("milk")));
        var id = Assert.Single(store.List()).Id;

        await Assert.ThrowsAsync<MessageTooLargeException>(() => store.ReplayAsync(id).AsTask());

        Assert.NotNull(store.Get(id));
    }

    [Fact]
    public async Task Full_store_forgets_the_oldest_letter()
    {
        await using var bus = new MessageBus(new EmbeddedTransport());
        var store = new DeadLetterStore(bus, NullLogger<DeadLetterStore>.Instance) { Capacity = 2 };

        foreach (var text in new[] { "first", "second", "third" })
        {
            await store.Add(new Message(Subjects.DeadLetterOf(Subject), Encoding.UTF8.GetBytes(text)));
        }

        Assert.Equal(["second", "third"], store.List().Select(l => l.DataPreview));
    }
}
