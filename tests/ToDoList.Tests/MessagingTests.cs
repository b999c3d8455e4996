using Microsoft.EntityFrameworkCore;
using ToDoList.Data;
using ToDoList.Items;
using ToDoList.Messaging;
using ToDoList.Messaging.DeadLetters;

namespace ToDoList.Tests;

/// <summary>SPEC §3 and §4 as the app lives them: idempotent handlers, poison messages, raw payloads, scatter-gather.</summary>
public abstract class MessagingTests(TodoAppFixture app)
{
    private readonly HttpClient _client = app.Client;
    private readonly MessageBus _bus = app.Bus;

    [Fact]
    public async Task The_same_new_item_event_published_twice_makes_one_row_and_one_audit_entry()
    {
        var eventId = "dup-" + Guid.NewGuid().ToString("N");
        var text = TodoHttp.UniqueText("twice");
        var message = _bus.CreateMessage(TodoSubjects.NewItem, new NewItemEvent(text), new PublishOptions { Id = eventId });

        await _bus.PublishAsync(message);
        await _bus.PublishAsync(message);

        // Both handlers take one message at a time, in order: once they handled a later event, they handled both copies.
        await PublishAndWaitUntilHandledAsync();
        await using var db = await app.CreateDbContextAsync();
        Assert.Single(await db.Items.Where(i => i.Item == text).ToListAsync());
        Assert.Equal(1, await db.Items.CountAsync(i => i.EventId == eventId));
        Assert.Equal(1, await db.AuditEntries.CountAsync(e => e.EventId == eventId));
        Assert.Single(await _client.GetItemsAsync(), i => i.Item == text);
    }

    [Fact]
    public async Task A_redelivered_event_answers_the_same_stored_item()
    {
        var text = TodoHttp.UniqueText("asked twice");
        var message = _bus.CreateMessage(TodoSubjects.NewItem, new NewItemEvent(text), new PublishOptions { Id = "again-" + Guid.NewGuid().ToString("N") });

        var first = await _bus.RequestAsync(message, TimeSpan.FromSeconds(5));
        var second = await _bus.RequestAsync(message, TimeSpan.FromSeconds(5));

        var saved1 = JsonSerializer.Deserialize<ItemSavedEvent>(first.Data.Span, TodoHttp.Web);
        var saved2 = JsonSerializer.Deserialize<ItemSavedEvent>(second.Data.Span, TodoHttp.Web);
        Assert.Equal(saved1, saved2);
        Assert.Single(await _client.GetItemsAsync(), i => i.Item == text);
    }

    [Fact]
    public async Task A_payload_that_is_not_json_goes_straight_to_the_dead_letters_and_the_handler_keeps_working()
    {
        var payload = "this is not JSON " + Guid.NewGuid().ToString("N");

        await _bus.PublishAsync(new Message(TodoSubjects.NewItem, Encoding.UTF8.GetBytes(payload)));

        var letters = await WaitForDeadLettersAsync(l => l.DataPreview == payload, count: 2, "both groups' dead letters of the raw payload");
        Assert.Equal(["audit-handler", "save-handler"], letters.Select(l => l.QueueGroup).Order(StringComparer.Ordinal));
        Assert.All(letters, l =>
        {
            Assert.Equal(TodoSubjects.NewItem, l.Subject);
            Assert.Equal(1, l.Attempts);
            Assert.Contains(nameof(PoisonMessageException), l.Error);
        });
        await AssertHandlerStillStoresAsync();
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task A_new_item_event_with_a_blank_item_goes_straight_to_the_dead_letters_and_the_handler_keeps_working(string item)
    {
        var eventId = "blank-" + Guid.NewGuid().ToString("N");

        await _bus.PublishAsync(TodoSubjects.NewItem, new NewItemEvent(item), new PublishOptions { Id = eventId });

        var letter = Assert.Single(await WaitForDeadLettersAsync(l => l.EventId == eventId, count: 1, $"the dead letter of {eventId}"));
        Assert.Equal(TodoSubjects.NewItem, letter.Subject);
        Assert.Equal("save-handler", letter.QueueGroup);
        Assert.Equal(1, letter.Attempts);
        await AssertHandlerStillStoresAsync();
        await using var db = await app.CreateDbContextAsync();
        Assert.False(await db.Items.AnyAsync(i => i.EventId == eventId));
    }

    [Fact]
    public async Task A_new_item_event_of_257_characters_goes_to_the_dead_letters()
    {
        var eventId = "long-" + Guid.NewGuid().ToString("N");

        await _bus.PublishAsync(TodoSubjects.NewItem, new NewItemEvent(new string('x', 257)), new PublishOptions { Id = eventId });

        var letter = Assert.Single(await WaitForDeadLettersAsync(l => l.EventId == eventId, count: 1, $"the dead letter of {eventId}"));
        Assert.Equal("save-handler", letter.QueueGroup);
        await AssertHandlerStillStoresAsync();
    }

    [Fact]
    public async Task An_event_id_of_256_characters_is_stored_and_audited()
    {
        var eventId = ("max-" + Guid.NewGuid().ToString("N")).PadRight(ToDoDbContext.MaxEventIdLength, 'i');
        var text = TodoHttp.UniqueText("long id");

        await _bus.PublishAsync(TodoSubjects.NewItem, new NewItemEvent(text), new PublishOptions { Id = eventId });

        var stored = await _client.WaitForItemAsync(text);
        await Eventually.True(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.AuditEntries.AnyAsync(e => e.EventId == eventId);
        }, "the audit entry of the 256-character id");
        await using var check = await app.CreateDbContextAsync();
        Assert.Equal(eventId, (await check.Items.SingleAsync(i => i.Id == stored.Id)).EventId);
    }

    [Fact]
    public async Task An_event_id_longer_than_256_characters_goes_straight_to_both_groups_dead_letters()
    {
        var eventId = ("too-long-" + Guid.NewGuid().ToString("N")).PadRight(ToDoDbContext.MaxEventIdLength + 1, 'i');
        var text = TodoHttp.UniqueText("too long id");

        await _bus.PublishAsync(TodoSubjects.NewItem, new NewItemEvent(text), new PublishOptions { Id = eventId });

        var letters = await WaitForDeadLettersAsync(l => l.EventId == eventId, count: 2, "both groups' dead letters of the 257-character id");
        Assert.Equal(["audit-handler", "save-handler"], letters.Select(l => l.QueueGroup).Order(StringComparer.Ordinal));
        Assert.All(letters, l =>
        {
            Assert.Equal(1, l.Attempts);
            Assert.Contains(nameof(PoisonMessageException), l.Error);
        });
        await AssertHandlerStillStoresAsync();
        Assert.DoesNotContain(await _client.GetItemsAsync(), i => i.Item == text);
    }

    [Fact]
    public async Task A_source_longer_than_256_characters_is_audited_cut_whole_characters_only()
    {
        var eventId = "source-" + Guid.NewGuid().ToString("N");
        var text = TodoHttp.UniqueText("long source");
        var message = _bus.CreateMessage(TodoSubjects.NewItem, new NewItemEvent(text), new PublishOptions { Id = eventId });
        // An emoji (a surrogate pair) across the cut: half a pair is not text PostgreSQL will store.
        var source = "/" + new string('s', ToDoDbContext.MaxSourceLength - 2) + "\U0001F600 and more";
        message.Headers[CloudEventHeaders.Source] = source;

        await _bus.PublishAsync(message);

        var entry = await Eventually.Returns(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.AuditEntries.AsNoTracking().FirstOrDefaultAsync(e => e.EventId == eventId);
        }, "the audit entry of the long source");
        Assert.Equal(source[..(ToDoDbContext.MaxSourceLength - 1)], entry.Source);
        await _client.WaitForItemAsync(text);
    }

    [Fact]
    public async Task A_bare_json_payload_with_no_headers_is_stored()
    {
        var text = TodoHttp.UniqueText("raw");
        var message = new Message(TodoSubjects.NewItem, Encoding.UTF8.GetBytes($$"""{"item":"{{text}}"}"""));
        Assert.False(message.HasHeaders);

        await _bus.PublishAsync(message);

        var stored = await _client.WaitForItemAsync(text);
        Assert.False(stored.Done);
    }

    [Fact]
    public async Task Scatter_gather_finds_this_process_in_role_todo()
    {
        // One window of a second; asked again only if a busy machine let it close before the reply came.
        var instances = await Eventually.Returns(
            async () => await InstanceInfo.GatherAsync(_bus, TimeSpan.FromSeconds(1)) is { Count: > 0 } found ? found : null,
            "an instance to answer on " + InstanceInfo.Subject);

        var instance = Assert.Single(instances);
        Assert.Equal("todo", instance.Role);
        Assert.Equal(Environment.ProcessId, instance.ProcessId);
        Assert.Equal(Environment.MachineName, instance.Host);
        Assert.Equal("memory", instance.Transport);
    }

    /// <summary>Publishes a valid item through the queue and waits until it is stored and audited.</summary>
    private async Task PublishAndWaitUntilHandledAsync()
    {
        var text = TodoHttp.UniqueText("marker");
        var eventId = await _bus.PublishAsync(TodoSubjects.NewItem, new NewItemEvent(text));
        await _client.WaitForItemAsync(text);
        await Eventually.True(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.AuditEntries.AnyAsync(e => e.EventId == eventId);
        }, $"the audit entry of {eventId}");
    }

    [Fact]
    public async Task Dead_letters_are_kept_in_the_database_once_and_replay_stores_the_item()
    {
        var eventId = "kept-" + Guid.NewGuid().ToString("N");
        var text = TodoHttp.UniqueText("replayed");
        var original = _bus.CreateMessage(TodoSubjects.NewItem, new NewItemEvent(text), new PublishOptions { Id = eventId });
        var headers = original.Headers.Clone();
        headers[MessagingHeaders.DeadLetterId] = "dl-" + Guid.NewGuid().ToString("N")[..20];
        headers[MessagingHeaders.DeadLetterError] = "InvalidOperationException: the database was read-only";
        headers[MessagingHeaders.DeadLetterGroup] = "save-handler";
        headers[MessagingHeaders.DeadLetterAttempts] = "5";
        var deadLetter = new Message(Subjects.DeadLetterOf(TodoSubjects.NewItem), original.Data, headers);

        // As a transport delivering the dead letter twice would: the store keeps it once.
        await _bus.PublishAsync(deadLetter);
        await _bus.PublishAsync(new Message(deadLetter.Subject, deadLetter.Data, headers.Clone()));

        // The store takes one dead letter at a time, in order: once a later one is kept, both copies were handled.
        var marker = "marker-" + Guid.NewGuid().ToString("N");
        await _bus.PublishAsync(new Message(deadLetter.Subject, Encoding.UTF8.GetBytes(marker), new MessageHeaders { [CloudEventHeaders.Id] = marker }));
        await WaitForDeadLettersAsync(l => l.EventId == marker, count: 1, "the later dead letter");
        var letter = Assert.Single(await WaitForDeadLettersAsync(l => l.EventId == eventId, count: 1, $"the dead letter of {eventId}"));
        await using (var db = await app.CreateDbContextAsync())
        {
            var row = await db.DeadLetters.SingleAsync(r => r.EventId == eventId);
            Assert.Equal(headers[MessagingHeaders.DeadLetterId], row.LetterId);
            Assert.Equal(TodoSubjects.NewItem, row.Subject);
            Assert.Equal("save-handler", row.QueueGroup);
            Assert.Equal(5, row.Attempts);
            Assert.Equal(original.Data.ToArray(), row.Data);
        }

        Assert.True(await app.Services.GetRequiredService<DeadLetterStore>().ReplayAsync(letter.Id));

        var stored = await _client.WaitForItemAsync(text);
        Assert.Equal(text, stored.Item);
        await using var after = await app.CreateDbContextAsync();
        Assert.False(await after.DeadLetters.AnyAsync(r => r.EventId == eventId));
        Assert.Equal(eventId, (await after.Items.SingleAsync(i => i.Id == stored.Id)).EventId);
    }

    private async Task AssertHandlerStillStoresAsync()
    {
        var text = TodoHttp.UniqueText("after poison");
        await _client.AddItemAsync(text);
        await _client.WaitForItemAsync(text);
    }

    private Task<List<DeadLetter>> WaitForDeadLettersAsync(Func<DeadLetter, bool> match, int count, string what)
    {
        var store = app.Services.GetRequiredService<DeadLetterStore>();
        return Eventually.Returns(async () =>
        {
            var letters = (await store.ListAsync()).Where(match).ToList();
            return letters.Count >= count ? letters : null;
        }, what);
    }
}

public sealed class MessagingOnSqliteTests(TodoAppFixture app) : MessagingTests(app), IClassFixture<TodoAppFixture>;

[Collection(PostgresCollection.Name)]
public sealed class MessagingOnPostgresTests(PostgresTodoAppFixture app) : MessagingTests(app), IClassFixture<PostgresTodoAppFixture>;
