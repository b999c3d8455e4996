using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ToDoList.Data;

/// <summary>
/// Tells a database that is down or busy (which passes) from a message the database refuses (which does not): the
/// handlers' messages wait out an outage, tried again with backoff, instead of becoming dead letters after a few seconds.
/// </summary>
public static class DatabaseOutage
{
    // SQLITE_BUSY, SQLITE_LOCKED: another connection holds the file.
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    public static bool IsTransient(Exception exception)
    {
        // EF Core wraps the provider's error (DbUpdateException, its retrying strategy's InvalidOperationException): look inside.
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case NpgsqlException npgsql when npgsql.IsTransient:
                case PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" } or PostgresException { SqlState: ['0', '8', ..] }:
                case SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked }:
                case TimeoutException:
                    return true;
                case DbException:
                    // Any other answer of the database (a constraint, bad data) is about the message.
                    return false;
            }
        }

        return false;
    }
}
