using System.Threading.Channels;
using ToDoList.Items;
using ToDoList.Messaging;

namespace ToDoList.Tests;

/// <summary>SPEC §2 and §3: <c>events.todo.itemsaved</c> follows every stored item, unless the seed's switch turns it off.</summary>
public sealed class ItemSavedEventTests(TodoAppFixture app) : IClassFixture<TodoAppFixture>
{
    [Fact]
    public async Task Item_saved_event_carries_the_stored_item_with_its_id()
    {
        await using var saved = await ItemSavedListener.StartAsync(app.Bus);
        var text = TodoHttp.UniqueText("announced");

        var eventId = await app.Client.AddItemAsync(text);

        var stored = await app.Client.WaitForItemAsync(text);
        var announced = await saved.NextAsync(m => JsonSerializer.Deserialize<ItemSavedEvent>(m.Data.Span, TodoHttp.Web)?.Item == text);
        var item = JsonSerializer.Deserialize<ItemSavedEvent>(announced.Data.Span, TodoHttp.Web)!;
        Assert.Equal(stored.Id, item.Id);
        Assert.Equal(stored.DateAdded, item.DateAdded);
        Assert.False(item.Done);
        Assert.Equal(eventId, item.EventId);
        Assert.Equal(TodoSubjects.ItemSaved, announced.Type);
        Assert.False(string.IsNullOrEmpty(announced.Id));
    }
}

/// <summary>With <c>Events:events.todo.itemsaved:Publish=false</c> the save handler stores and answers, but announces nothing.</summary>
public sealed class ItemSavedSwitchedOffTests(ItemSavedSwitchedOffFixture app) : IClassFixture<ItemSavedSwitchedOffFixture>
{
    [Fact]
    public async Task No_item_saved_event_is_published_when_switched_off()
    {
        await using var saved = await ItemSavedListener.StartAsync(app.Bus);
        var first = TodoHttp.UniqueText("quiet 1");
        var second = TodoHttp.UniqueText("quiet 2");

        await app.Client.AddItemAsync(first);
        await app.Client.AddItemAsync(second);
        await app.Client.WaitForItemAsync(first);
        await app.Client.WaitForItemAsync(second);

        // The handler takes one message at a time: with the second stored, any event of the first was published before this marker.
        var marker = "marker " + Guid.NewGuid().ToString("N");
        await app.Bus.PublishAsync(new Message(TodoSubjects.ItemSaved, Encoding.UTF8.GetBytes(marker)));
        var firstReceived = await saved.NextAsync(_ => true);
        Assert.Equal(marker, Encoding.UTF8.GetString(firstReceived.Data.Span));
    }

    [Fact]
    public async Task Prefer_wait_still_answers_201_when_switched_off()
    {
        var saved = await app.Client.AddItemAndWaitAsync(TodoHttp.UniqueText("still answered"));

        Assert.True(saved.Id > 0);
    }
}

/// <summary>A plain subscription on <c>events.todo.itemsaved</c> that keeps what it hears, in order.</summary>
internal sealed class ItemSavedListener : IAsyncDisposable
{
    private readonly Channel<Message> _received = Channel.CreateUnbounded<Message>();
    private Subscription? _subscription;

    public static async Task<ItemSavedListener> StartAsync(MessageBus bus)
    {
        var listener = new ItemSavedListener();
        listener._subscription = await bus.SubscribeAsync(TodoSubjects.ItemSaved, (context, _) =>
        {
            listener._received.Writer.TryWrite(context.Message);
            return ValueTask.CompletedTask;
        });
        return listener;
    }

    /// <summary>The next message that matches, skipping others; fails at the deadline.</summary>
    public async Task<Message> NextAsync(Func<Message, bool> match)
    {
        while (true)
        {
            var message = await Eventually.Next(_received.Reader, "a message on " + TodoSubjects.ItemSaved);
            if (match(message))
            {
                return message;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync();
        }
    }
}
