using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ToDoList.Data;

// Let `dotnet ef migrations add NAME --context SqliteToDoDbContext|PostgresToDoDbContext` build a context without
// starting the app; neither connects to a database.

internal sealed class SqliteDesignTimeDbContextFactory : IDesignTimeDbContextFactory<SqliteToDoDbContext>
{
    public SqliteToDoDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteToDoDbContext>().UseSqlite(DatabaseExtensions.DefaultConnectionString).Options);
}

internal sealed class PostgresDesignTimeDbContextFactory : IDesignTimeDbContextFactory<PostgresToDoDbContext>
{
    public PostgresToDoDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresToDoDbContext>().UseNpgsql("Host=localhost;Database=todo").Options);
}
