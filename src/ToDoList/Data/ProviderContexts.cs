using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using ToDoList.Items;

namespace ToDoList.Data;

/// <summary>The SQLite database: migrations in Data/Migrations/Sqlite.</summary>
public sealed class SqliteToDoDbContext(DbContextOptions<SqliteToDoDbContext> options) : ToDoDbContext(options)
{
    // A multi-row VALUES: 3 parameters a row, far under SQLite's 32,766.
    protected override (string Sql, DbParameter[] Parameters) InsertNewItems(IReadOnlyList<TodoItem> items)
    {
        var sql = new StringBuilder("""INSERT INTO "ToDoItems" ("Item", "DateAdded", "Done", "EventId") VALUES """);
        var parameters = new DbParameter[items.Count * 3];
        for (var i = 0; i < items.Count; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"($i{i}, $d{i}, 0, $e{i})");
            parameters[i * 3] = new SqliteParameter($"$i{i}", items[i].Item);
            // Microsoft.Data.Sqlite writes a DateTimeOffset as the text EF Core stores for it.
            parameters[(i * 3) + 1] = new SqliteParameter($"$d{i}", items[i].DateAdded);
            parameters[(i * 3) + 2] = new SqliteParameter($"$e{i}", items[i].EventId);
        }

        return (sql.Append(""" ON CONFLICT ("EventId") DO NOTHING RETURNING "Id", "EventId" """).ToString(), parameters);
    }
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
}

/// <summary>Hands out the configured provider's context as the <see cref="ToDoDbContext"/> the app asks for.</summary>
internal sealed class ToDoDbContextFactory<TContext>(IDbContextFactory<TContext> provider) : IDbContextFactory<ToDoDbContext>
    where TContext : ToDoDbContext
{
    public ToDoDbContext CreateDbContext() => provider.CreateDbContext();

    public async Task<ToDoDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        await provider.CreateDbContextAsync(cancellationToken);
}
