using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using ToDoList.Items;

namespace ToDoList.Data;

/// <summary>The SQLite database: migrations in Data/Migrations/Sqlite.</summary>
public sealed class SqliteToDoDbContext(DbContextOptions<SqliteToDoDbContext> options) : ToDoDbContext(options)
{
    // The rows as one JSON parameter: Microsoft.Data.Sqlite finds each named parameter by a linear search, so a
    // multi-row VALUES of 3 parameters a row cost the square of the batch.
    protected override (string Sql, DbParameter[] Parameters) InsertNewItems(IReadOnlyList<TodoItem> items) =>
        ("""
         INSERT INTO "ToDoItems" ("Item", "DateAdded", "Done", "EventId")
         SELECT value ->> 0, value ->> 1, 0, value ->> 2 FROM json_each($rows) WHERE true
         ON CONFLICT ("EventId") DO NOTHING
         RETURNING "Id", "EventId"
         """,
        [Rows(items, i => [i.Item, Text(i.DateAdded), i.EventId])]);

    protected override (string Sql, DbParameter[] Parameters) InsertNewAuditEntries(IReadOnlyList<AuditEntry> entries) =>
        ("""
         INSERT INTO "AuditEntries" ("EventId", "Subject", "Item", "Source", "ReceivedAt")
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each($rows) WHERE true
         ON CONFLICT ("EventId") DO NOTHING
         RETURNING "Id", "EventId"
         """,
        [Rows(entries, e => [e.EventId, e.Subject, e.Item, e.Source, Text(e.ReceivedAt)])]);

    private static SqliteParameter Rows<T>(IReadOnlyList<T> rows, Func<T, string?[]> columns)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartArray();
            foreach (var row in rows)
            {
                writer.WriteStartArray();
                foreach (var column in columns(row))
                {
                    writer.WriteStringValue(column);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        return new SqliteParameter("$rows", Encoding.UTF8.GetString(json.WrittenSpan));
    }

    // The text EF Core stores for a DateTimeOffset on SQLite.
    private static string Text(DateTimeOffset date) => date.ToString(@"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFFzzz", CultureInfo.InvariantCulture);
}

/// <summary>The PostgreSQL database: migrations in Data/Migrations/Postgres.</summary>
public sealed class PostgresToDoDbContext(DbContextOptions<PostgresToDoDbContext> options) : ToDoDbContext(options)
{
    // One statement text whatever the batch's size (three arrays), so PostgreSQL parses and plans it once per connection.
    protected override (string Sql, DbParameter[] Parameters) InsertNewItems(IReadOnlyList<TodoItem> items) =>
        ("""
         INSERT INTO "ToDoItems" ("Item", "DateAdded", "Done", "EventId")
         SELECT item, date_added, FALSE, event_id FROM unnest(@items, @dates, @ids) AS new (item, date_added, event_id)
         ON CONFLICT ("EventId") DO NOTHING
         RETURNING "Id", "EventId"
         """,
        [
            new NpgsqlParameter<string[]>("items", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. items.Select(i => i.Item)] },
            new NpgsqlParameter<DateTimeOffset[]>("dates", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = [.. items.Select(i => i.DateAdded)] },
            new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. items.Select(i => i.EventId)] },
        ]);

    protected override (string Sql, DbParameter[] Parameters) InsertNewAuditEntries(IReadOnlyList<AuditEntry> entries) =>
        ("""
         INSERT INTO "AuditEntries" ("EventId", "Subject", "Item", "Source", "ReceivedAt")
         SELECT * FROM unnest(@ids, @subjects, @items, @sources, @received)
         ON CONFLICT ("EventId") DO NOTHING
         RETURNING "Id", "EventId"
         """,
        [
            new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. entries.Select(e => e.EventId)] },
            new NpgsqlParameter<string[]>("subjects", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. entries.Select(e => e.Subject)] },
            new NpgsqlParameter<string?[]>("items", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. entries.Select(e => e.Item)] },
            new NpgsqlParameter<string?[]>("sources", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. entries.Select(e => e.Source)] },
            new NpgsqlParameter<DateTimeOffset[]>("received", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = [.. entries.Select(e => e.ReceivedAt)] },
        ]);
}

/// <summary>Hands out the configured provider's context as the <see cref="ToDoDbContext"/> the app asks for.</summary>
internal sealed class ToDoDbContextFactory<TContext>(IDbContextFactory<TContext> provider) : IDbContextFactory<ToDoDbContext>
    where TContext : ToDoDbContext
{
    public ToDoDbContext CreateDbContext() => provider.CreateDbContext();

    public async Task<ToDoDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        await provider.CreateDbContextAsync(cancellationToken);
}
