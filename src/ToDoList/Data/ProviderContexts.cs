using Microsoft.EntityFrameworkCore;

namespace ToDoList.Data;

/// <summary>The SQLite database: migrations in Data/Migrations/Sqlite.</summary>
public sealed class SqliteToDoDbContext(DbContextOptions<SqliteToDoDbContext> options) : ToDoDbContext(options);

/// <summary>The PostgreSQL database: migrations in Data/Migrations/Postgres.</summary>
public sealed class PostgresToDoDbContext(DbContextOptions<PostgresToDoDbContext> options) : ToDoDbContext(options);

/// <summary>Hands out the configured provider's context as the <see cref="ToDoDbContext"/> the app asks for.</summary>
internal sealed class ToDoDbContextFactory<TContext>(IDbContextFactory<TContext> provider) : IDbContextFactory<ToDoDbContext>
    where TContext : ToDoDbContext
{
    public ToDoDbContext CreateDbContext() => provider.CreateDbContext();

    public async Task<ToDoDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        await provider.CreateDbContextAsync(cancellationToken);
}
