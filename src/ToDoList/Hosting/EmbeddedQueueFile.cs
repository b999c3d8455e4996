using Microsoft.Data.Sqlite;
using ToDoList.Data;

namespace ToDoList.Hosting;

/// <summary>Where the all-in-one's <c>embedded://</c> queue keeps its messages: durable beside the database (SPEC §2).</summary>
public static class EmbeddedQueueFile
{
    /// <summary>The file's name when no SQLite database file says where: in the working folder.</summary>
    public const string DefaultName = "todo.queue.db";

    /// <summary>
    /// Beside the SQLite database file, named after it (<c>Data Source=todo.db</c> → <c>todo.queue.db</c>); in the working
    /// folder for PostgreSQL or an in-memory database. <c>embedded:///path/queue.db</c> overrides it.
    /// </summary>
    public static string For(IConfiguration configuration)
    {
        if (DatabaseExtensions.ReadProvider(configuration) == DatabaseProvider.Sqlite)
        {
            var connectionString = configuration.GetConnectionString("ToDoDb") is { } configured && !string.IsNullOrWhiteSpace(configured)
                ? configured
                : DatabaseExtensions.DefaultConnectionString;
            var database = new SqliteConnectionStringBuilder(connectionString);
            var source = database.DataSource;
            if (database.Mode != SqliteOpenMode.Memory && !string.IsNullOrWhiteSpace(source) && source != ":memory:" && !source.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            {
                return Path.ChangeExtension(Path.GetFullPath(source), ".queue.db");
            }
        }

        return Path.GetFullPath(DefaultName);
    }
}
