using System.Diagnostics;
using Npgsql;

namespace ToDoList.ProcessTests;

/// <summary>An item as the save handler stored it, read straight from PostgreSQL.</summary>
public sealed record StoredItem(int Id, string Item, string EventId, bool Done);

/// <summary>The scenario's PostgreSQL database, read directly with Npgsql.</summary>
public sealed class TodoDatabase(string connectionString)
{
    public string ConnectionString { get; } = connectionString;

    public async Task<IReadOnlyList<StoredItem>> ItemsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "Id", "Item", "EventId", "Done" FROM "ToDoItems" ORDER BY "Id" """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var items = new List<StoredItem>();
        while (await reader.ReadAsync())
        {
            items.Add(new StoredItem(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3)));
        }

        return items;
    }

    /// <summary>The event id of every audit entry, one per entry (a duplicate shows as the same id twice).</summary>
    public async Task<IReadOnlyList<string>> AuditedEventIdsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "EventId" FROM "AuditEntries" """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>Reads the items until <paramref name="done"/> holds for them; fails at the deadline with what was stored and the processes' logs.</summary>
    public async Task<IReadOnlyList<StoredItem>> WaitForItemsAsync(Func<IReadOnlyList<StoredItem>, bool> done, string what, TimeSpan timeout, Func<string> logs)
    {
        var clock = Stopwatch.StartNew();
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        IReadOnlyList<StoredItem> items;
        do
        {
            items = await ItemsAsync();
            if (done(items))
            {
                return items;
            }
        }
        while (clock.Elapsed < timeout && await poll.WaitForNextTickAsync());

        Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}; {items.Count} items stored.\n{logs()}");
        throw new UnreachableException();
    }
}
