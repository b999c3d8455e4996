using Microsoft.EntityFrameworkCore;
using ToDoList.Messaging.DeadLetters;

namespace ToDoList.Tests;

/// <summary>Many clients at once: the save and audit handlers share one database, and no item is lost or doubled.</summary>
public abstract class LoadTests(TodoAppFixture app)
{
    [Fact]
    public async Task Items_posted_at_once_are_each_stored_and_audited_exactly_once()
    {
        var prefix = TodoHttp.UniqueText("burst");
        var texts = Enumerable.Range(0, 200).Select(i => $"{prefix} {i}").ToList();

        var eventIds = await Task.WhenAll(texts.Select(app.Client.AddItemAsync));

        await Eventually.True(async () => (await app.Client.GetItemsAsync()).Count(i => i.Item.StartsWith(prefix, StringComparison.Ordinal)) >= texts.Count, "every item of the burst to be stored", TimeSpan.FromSeconds(30));
        await Eventually.True(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.AuditEntries.CountAsync(e => eventIds.Contains(e.EventId)) >= eventIds.Length;
        }, "every item of the burst to be audited", TimeSpan.FromSeconds(30));

        var stored = (await app.Client.GetItemsAsync()).Where(i => i.Item.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(texts.Order(StringComparer.Ordinal), stored.Select(i => i.Item).Order(StringComparer.Ordinal));
        await using (var db = await app.CreateDbContextAsync())
        {
            Assert.Equal(eventIds.Length, await db.AuditEntries.CountAsync(e => eventIds.Contains(e.EventId)));
        }

        Assert.Empty(await app.Services.GetRequiredService<DeadLetterStore>().ListAsync());
    }

    [Fact]
    public async Task Items_posted_at_once_with_prefer_wait_each_answer_201_with_their_own_item()
    {
        var prefix = TodoHttp.UniqueText("waited burst");
        var texts = Enumerable.Range(0, 50).Select(i => $"{prefix} {i}").ToList();

        var saved = await Task.WhenAll(texts.Select(app.Client.AddItemAndWaitAsync));

        Assert.Equal(texts, saved.Select(s => s.Item));
        Assert.Equal(saved.Length, saved.Select(s => s.Id).Distinct().Count());
    }
}

public sealed class LoadOnSqliteTests(TodoAppFixture app) : LoadTests(app), IClassFixture<TodoAppFixture>;

[Collection(PostgresCollection.Name)]
public sealed class LoadOnPostgresTests(PostgresTodoAppFixture app) : LoadTests(app), IClassFixture<PostgresTodoAppFixture>;
