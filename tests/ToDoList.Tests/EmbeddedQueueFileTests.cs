using Microsoft.Extensions.Configuration;
using ToDoList.Hosting;

namespace ToDoList.Tests;

/// <summary>SPEC §2: the all-in-one's <c>embedded://</c> queue is durable beside the database.</summary>
public sealed class EmbeddedQueueFileTests
{
    [Theory]
    [InlineData(null, null, "todo.queue.db")]
    [InlineData("Sqlite", "Data Source=/var/lib/todo/items.db", "/var/lib/todo/items.queue.db")]
    [InlineData(null, "Data Source=data/todo.db;Cache=Shared", "data/todo.queue.db")]
    [InlineData(null, "Data Source=:memory:", "todo.queue.db")]
    [InlineData(null, "Data Source=todo;Mode=Memory", "todo.queue.db")]
    [InlineData("Postgres", "Host=db;Database=todo;Username=todo", "todo.queue.db")]
    public void Queue_file_sits_beside_the_SQLite_database_else_in_the_working_folder(string? provider, string? connectionString, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider,
            ["ConnectionStrings:ToDoDb"] = connectionString,
        }).Build();

        // A relative path is relative to the working folder, as SQLite takes the database's.
        Assert.Equal(Path.GetFullPath(expected), EmbeddedQueueFile.For(configuration));
    }

    [Fact]
    public async Task All_in_one_keeps_its_queue_beside_its_database()
    {
        var directory = Directory.CreateTempSubdirectory("todo-queue-");
        var host = TodoApp.Build(Role.AllInOne, ["--urls", "http://127.0.0.1:0", $"--ConnectionStrings:ToDoDb=Data Source={Path.Combine(directory.FullName, "todo.db")}"]);
        try
        {
            await host.StartAsync();

            Assert.True(File.Exists(Path.Combine(directory.FullName, "todo.queue.db")), $"no todo.queue.db beside todo.db: {string.Join(", ", directory.EnumerateFiles().Select(f => f.Name))}");
            await host.StopAsync();
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
            directory.Delete(recursive: true);
        }
    }
}
