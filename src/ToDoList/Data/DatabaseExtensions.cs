using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using ToDoList.Hosting;

namespace ToDoList.Data;

/// <summary>The providers <c>Database:Provider</c> names.</summary>
public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

public static class DatabaseExtensions
{
    public const string DefaultConnectionString = "Data Source=todo.db";

    /// <summary>
    /// The database of SPEC §2: <c>Database:Provider</c> (<c>Sqlite</c>, the default, or <c>Postgres</c>) and
    /// <c>ConnectionStrings:ToDoDb</c>; migrated at start. Throws <see cref="RoleConfigurationException"/> for a setting it cannot run with.
    /// </summary>
    public static IHostApplicationBuilder AddTodoDatabase(this IHostApplicationBuilder builder)
    {
        var provider = ReadProvider(builder.Configuration);
        var connectionString = builder.Configuration.GetConnectionString("ToDoDb") is { } configured && !string.IsNullOrWhiteSpace(configured) ? configured : null;
        switch (provider)
        {
            case DatabaseProvider.Sqlite:
                connectionString = Checked(new SqliteConnectionStringBuilder(), connectionString ?? DefaultConnectionString, provider);
                AddContext<SqliteToDoDbContext>(builder.Services, options => options.UseSqlite(connectionString));
                break;
            case DatabaseProvider.Postgres:
                // No default: a PostgreSQL server is somewhere only the deployment knows.
                if (connectionString is null)
                {
                    throw new RoleConfigurationException(
                        "Database:Provider is Postgres but no connection string is set: set ConnectionStrings__ToDoDb (for example Host=localhost;Database=todo;Username=todo;Password=...).");
                }

                connectionString = Checked(new NpgsqlConnectionStringBuilder(), connectionString, provider);
                AddContext<PostgresToDoDbContext>(builder.Services, options => options.UseNpgsql(connectionString));
                break;
        }

        builder.Services.AddHostedService<DatabaseMigrator>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return builder;
    }

    /// <summary><c>Database:Provider</c>, in any letter case; unset or blank is <see cref="DatabaseProvider.Sqlite"/>.</summary>
    public static DatabaseProvider ReadProvider(IConfiguration configuration)
    {
        var name = configuration["Database:Provider"];
        if (string.IsNullOrWhiteSpace(name))
        {
            return DatabaseProvider.Sqlite;
        }

        // Names only: Enum.TryParse would also take "1".
        foreach (var provider in Enum.GetValues<DatabaseProvider>())
        {
            if (provider.ToString().Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return provider;
            }
        }

        throw new RoleConfigurationException($"Database:Provider '{name}' is not known: set Database__Provider to Sqlite (the default) or Postgres.");
    }

    /// <summary>
    /// <paramref name="connectionString"/> if the provider can read it. Its parser's own error quotes the text it
    /// could not read, which may be part of a password (an unquoted <c>;</c> in one), so the refusal quotes nothing.
    /// </summary>
    private static string Checked(DbConnectionStringBuilder parser, string connectionString, DatabaseProvider provider)
    {
        try
        {
            parser.ConnectionString = connectionString;
            return connectionString;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw new RoleConfigurationException(
                $"ConnectionStrings:ToDoDb is not a connection string {provider} can read (an unknown keyword, a value of the wrong kind, or a ';' in an unquoted value): correct ConnectionStrings__ToDoDb.");
        }
    }

    /// <summary>Registers the provider's own context, and <see cref="ToDoDbContext"/> (scoped and by factory) as the app sees it.</summary>
    private static void AddContext<TContext>(IServiceCollection services, Action<DbContextOptionsBuilder> configure)
        where TContext : ToDoDbContext
    {
        services.AddDbContextFactory<TContext>(configure);
        services.AddSingleton<IDbContextFactory<ToDoDbContext>, ToDoDbContextFactory<TContext>>();
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<ToDoDbContext>>().CreateDbContext());
    }
}

/// <summary>
/// Applies migrations before anything else starts, so handlers never meet a missing table. Roles starting at once
/// against one database are safe: EF Core (9+) holds a migration lock while it applies them.
/// </summary>
internal sealed class DatabaseMigrator(IDbContextFactory<ToDoDbContext> factory, ILogger<DatabaseMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        if (db.Database.IsSqlite())
        {
            // WAL lets the list read while the save handler writes.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        if (db.Database.IsNpgsql())
        {
            // EF Core's own lock holds only while one migration's transaction runs: with several pending, two roles starting
            // at once both applied the second ("relation already exists"). A session lock around the whole run serialises them.
            // Opened by hand, not through EF Core, whose wrapper would hide the provider's error (the role's last line names it).
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, "SELECT pg_advisory_lock(7400201)", cancellationToken);
            try
            {
                // On the same open connection: the session that holds the lock. The history table first: EF Core reads it
                // before it makes it, and logs that read's failure on a new database as an error at every first start.
                await ExecuteAsync(connection, db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript(), cancellationToken);
                await db.Database.MigrateAsync(cancellationToken);
            }
            finally
            {
                // Unlocked by hand: a pooled connection keeps its session, and the lock with it, after it is closed.
                try
                {
                    await ExecuteAsync(connection, "SELECT pg_advisory_unlock(7400201)", CancellationToken.None);
                }
                catch (DbException)
                {
                    // The connection broke: its session, and the lock, are gone with it.
                }

                await connection.CloseAsync();
            }
        }
        else
        {
            await db.Database.MigrateAsync(cancellationToken);
        }

        logger.LogInformation("Database ready ({Provider})", db.Database.ProviderName);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

internal sealed class DatabaseHealthCheck(IDbContextFactory<ToDoDbContext> factory) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return await db.Database.CanConnectAsync(cancellationToken)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The database does not answer.");
    }
}
