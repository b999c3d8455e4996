using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using ToDoList.Data;
using ToDoList.Hosting;
using ToDoList.Items;
using Xunit.Abstractions;

namespace ToDoList.Tests;

/// <summary>SPEC §2: <c>Database:Provider</c> picks SQLite or PostgreSQL, each with its own migrations, on real databases.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseTests(ITestOutputHelper output)
{
    public static TheoryData<DatabaseProvider> Providers => [DatabaseProvider.Sqlite, DatabaseProvider.Postgres];

    [Theory]
    [InlineData("Postgres", DatabaseProvider.Postgres)]
    [InlineData("postgres", DatabaseProvider.Postgres)]
    [InlineData("POSTGRES", DatabaseProvider.Postgres)]
    [InlineData("sqlite", DatabaseProvider.Sqlite)]
    [InlineData(" Sqlite ", DatabaseProvider.Sqlite)]
    [InlineData("", DatabaseProvider.Sqlite)]
    [InlineData(null, DatabaseProvider.Sqlite)]
    public void Provider_is_read_in_any_letter_case_and_defaults_to_sqlite(string? setting, DatabaseProvider expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Database:Provider"] = setting }).Build();

        Assert.Equal(expected, DatabaseExtensions.ReadProvider(configuration));
    }

    [Theory]
    [InlineData("SqlServer")]
    [InlineData("1")]
    [InlineData("PostgresSQL")]
    public void An_unknown_provider_refuses_to_build_with_one_line_naming_the_known_ones(string provider)
    {
        var error = Assert.Throws<RoleConfigurationException>(() => TodoApp.Build(Role.AllInOne, [$"--Database:Provider={provider}", "--MessageQueue:Url=memory://"]));

        Assert.Contains("Database__Provider", error.Message);
        Assert.Contains("Postgres", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Postgres_without_a_connection_string_refuses_to_build_with_one_line()
    {
        var error = Assert.Throws<RoleConfigurationException>(() => TodoApp.Build(Role.AllInOne, ["--Database:Provider=Postgres", "--MessageQueue:Url=memory://", "--ConnectionStrings:ToDoDb="]));

        Assert.Contains("ConnectionStrings__ToDoDb", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("Postgres", "Host=127.0.0.1;Username=todo;Password=pw1Secret;pw2Secret=x;Database=todo")]
    [InlineData("Postgres", "Host=127.0.0.1;Port=pw1Secret;Password=pw2Secret")]
    [InlineData("Sqlite", "Data Source=todo.db;Password=pw1Secret;pw2Secret=x")]
    public void A_connection_string_the_provider_cannot_read_refuses_to_build_quoting_none_of_it(string provider, string connectionString)
    {
        var error = Assert.Throws<RoleConfigurationException>(() => TodoApp.Build(Role.AllInOne, [$"--Database:Provider={provider}", "--MessageQueue:Url=memory://", $"--ConnectionStrings:ToDoDb={connectionString}"]));

        Assert.Contains("ConnectionStrings__ToDoDb", error.Message);
        Assert.DoesNotContain("secret", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Each_provider_has_migrations_matching_the_model(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        using var host = database.BuildHost();
        await using var db = await host.Services.GetRequiredService<IDbContextFactory<ToDoDbContext>>().CreateDbContextAsync();

        Assert.NotEmpty(db.Database.GetMigrations());
        Assert.False(db.Database.HasPendingModelChanges(), $"The model changed: add a migration for every provider (see src/ToDoList/Data/Migrations).");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Three_roles_migrating_a_fresh_database_at_once_all_start_and_migrate_it_once(DatabaseProvider provider)
    {
        // Several rounds, each on a fresh database: a race shows itself only sometimes.
        const int Rounds = 5;
        const int Migrators = 3;
        var times = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            await using var database = await TestDatabase.CreateAsync(provider);
            var hosts = Enumerable.Range(0, Migrators).Select(_ => database.BuildHost()).ToList();
            try
            {
                var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var migrations = hosts.Select(async h =>
                {
                    await go.Task;
                    await h.Services.GetServices<IHostedService>().OfType<DatabaseMigrator>().Single().StartAsync(CancellationToken.None);
                }).ToList();
                var clock = Stopwatch.StartNew();
                go.SetResult();
                await Task.WhenAll(migrations);
                times.Add(clock.Elapsed.TotalMilliseconds);

                await using var db = await hosts[0].Services.GetRequiredService<IDbContextFactory<ToDoDbContext>>().CreateDbContextAsync();
                Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
                db.Items.Add(new TodoItem { Item = "after migrating", EventId = "migrated-" + round });
                await db.SaveChangesAsync();
            }
            finally
            {
                hosts.ForEach(h => h.Dispose());
            }
        }

        output.WriteLine($"{provider}: {Migrators} migrators at once on a fresh database, {Rounds} rounds: {string.Join(", ", times.Select(t => $"{t:0} ms"))}");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_second_row_with_the_same_event_id_is_told_a_duplicate_by_the_database_error_code(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        using var host = await database.StartHostAsync();
        var factory = host.Services.GetRequiredService<IDbContextFactory<ToDoDbContext>>();
        await using (var first = await factory.CreateDbContextAsync())
        {
            first.Items.Add(new TodoItem { Item = "first", EventId = "same" });
            await first.SaveChangesAsync();
        }

        await using var second = await factory.CreateDbContextAsync();
        second.Items.Add(new TodoItem { Item = "second", EventId = "same" });
        var error = await Assert.ThrowsAsync<DbUpdateException>(() => second.SaveChangesAsync());

        Assert.True(ToDoDbContext.IsDuplicate(error), error.InnerException?.ToString());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_failure_other_than_a_duplicate_is_not_told_a_duplicate(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        using var host = await database.StartHostAsync();
        await using var db = await host.Services.GetRequiredService<IDbContextFactory<ToDoDbContext>>().CreateDbContextAsync();
        // NOT NULL is a constraint too (SQLite error 19, like UNIQUE): only its extended code tells them apart.
        db.Items.Add(new TodoItem { Item = null!, EventId = "no text" });

        var error = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());

        Assert.False(ToDoDbContext.IsDuplicate(error), error.InnerException?.ToString());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Dates_are_stored_in_utc_to_the_microsecond_and_read_back_equal(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        using var host = await database.StartHostAsync();
        var factory = host.Services.GetRequiredService<IDbContextFactory<ToDoDbContext>>();
        var date = new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(1234560);
        int id;
        await using (var db = await factory.CreateDbContextAsync())
        {
            var item = new TodoItem { Item = "dated", EventId = "dated", DateAdded = date };
            db.Items.Add(item);
            await db.SaveChangesAsync();
            id = item.Id;
        }

        await using var read = await factory.CreateDbContextAsync();
        Assert.Equal(date, (await read.Items.SingleAsync(i => i.Id == id)).DateAdded);
    }

    [Fact]
    public void Storable_text_is_cut_between_characters_and_loses_nul()
    {
        Assert.Null(ToDoDbContext.Storable(null, 4));
        Assert.Equal("abcd", ToDoDbContext.Storable("abcdef", 4));
        Assert.Equal("abc", ToDoDbContext.Storable("abc\U0001F600", 4));
        Assert.Equal("ab\U0001F600", ToDoDbContext.Storable("ab\U0001F600x", 4));
        Assert.Equal("a\uFFFDb", ToDoDbContext.Storable("a\0b", 4));
    }
}

/// <summary>An empty database of either provider: a SQLite file in a temporary folder, or a fresh database on the run's PostgreSQL.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly string? _directory;

    private TestDatabase(DatabaseProvider provider, string connectionString, string? directory)
    {
        Provider = provider;
        ConnectionString = connectionString;
        _directory = directory;
    }

    public DatabaseProvider Provider { get; }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Postgres)
        {
            var server = await PostgresServer.GetAsync();
            return new TestDatabase(provider, server.ConnectionString(await server.CreateDatabaseAsync()), null);
        }

        var directory = Directory.CreateTempSubdirectory("todo-db-").FullName;
        return new TestDatabase(provider, $"Data Source={Path.Combine(directory, "todo.db")}", directory);
    }

    /// <summary>A host with only the app's database registration (<see cref="DatabaseExtensions.AddTodoDatabase"/>), not started.</summary>
    public IHost BuildHost()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = Provider.ToString(),
            ["ConnectionStrings:ToDoDb"] = ConnectionString,
        });
        builder.Services.AddLogging();
        builder.AddTodoDatabase();
        return builder.Build();
    }

    /// <summary>A started host: the database is migrated.</summary>
    public async Task<IHost> StartHostAsync()
    {
        var host = BuildHost();
        await host.StartAsync();
        return host;
    }

    public ValueTask DisposeAsync()
    {
        if (_directory is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary folder is no reason to fail a test.
            }
        }

        return ValueTask.CompletedTask;
    }
}
