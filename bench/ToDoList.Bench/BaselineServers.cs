extern alias NatsV1;

using System.Data.Common;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Npgsql;

namespace ToDoList.Bench;

/// <summary>
/// The baseline designs of <c>e2e</c> and <c>all-in-one</c>, each run as a process of its own (this bench started
/// again with <c>serve …</c>), as ours runs as the published app:
/// <list type="bullet">
/// <item><c>serve seed-api PORT NATS_URL SUBJECT</c>: the seed's API. POST /todo opens a new NATS connection, publishes
/// to NATS core, disposes it (which flushes), with the seed's client, NATS.Client 1.x: its <c>CreateConnection</c>
/// blocks the request thread while it connects (thread-pool starvation under load, connect timeouts → 500). 202.
/// NATS.Net 2's own connection, awaited, does not starve; blocked on, it deadlocks the pool: neither is the seed.</item>
/// <item><c>serve seed-save-handler NATS_URL SUBJECT CONNECTION_STRING</c>: the seed's save handler. A NATS core
/// subscription (at most once, the client's default pending limit), one message at a time, one INSERT each (autocommit).
/// Plain Npgsql: kinder than the seed's DbContext per message.</item>
/// <item><c>serve sync PORT postgres|sqlite CONNECTION_STRING</c>: the synchronous design. POST /todo INSERTs the row
/// itself (pooled connections, one INSERT per request) and answers 201.</item>
/// </list>
/// Each keeps its rows in a table <c>items</c> it creates; logs at Warning, as ours.
/// </summary>
internal static class BaselineServers
{
    public const string Table = "items";

    public static Task RunAsync(string[] args) => args switch
    {
        ["seed-api", var port, var natsUrl, var subject] => SeedApiAsync(int.Parse(port, System.Globalization.CultureInfo.InvariantCulture), natsUrl, subject),
        ["seed-save-handler", var natsUrl, var subject, var database] => SeedSaveHandlerAsync(natsUrl, subject, database),
        ["sync", var port, var provider, var database] => SyncAsync(int.Parse(port, System.Globalization.CultureInfo.InvariantCulture), provider, database),
        _ => throw new ArgumentException($"serve: unknown arguments '{string.Join(' ', args)}'."),
    };

    private static WebApplication BuildApi(int port)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapGet("/healthz", () => "Healthy");
        return app;
    }

    private static Task SeedApiAsync(int port, string natsUrl, string subject)
    {
        var app = BuildApi(port);
        var factory = new NatsV1::NATS.Client.ConnectionFactory();
        var options = NatsV1::NATS.Client.ConnectionFactory.GetDefaultOptions();
        options.Url = natsUrl;
        // Client 1.x writes two console lines per closed connection by default; the seed's older client did not.
        options.DisconnectedEventHandler = (_, _) => { };
        options.ClosedEventHandler = (_, _) => { };
        app.MapPost("/todo", (NewItem body) =>
        {
            using var nats = factory.CreateConnection(options);
            nats.Publish(subject, JsonSerializer.SerializeToUtf8Bytes(body, JsonSerializerOptions.Web));
            return Results.Accepted();
        });
        return app.RunAsync();
    }

    private static async Task SeedSaveHandlerAsync(string natsUrl, string subject, string database)
    {
        await using var db = NpgsqlDataSource.Create(database);
        await CreateTableAsync(db, "postgres");
        await using var nats = new NatsConnection(new NatsOpts { Url = natsUrl });
        await using var subscription = await nats.SubscribeCoreAsync<byte[]>(subject);
        await nats.PingAsync();
        Console.WriteLine("ready");
        await foreach (var msg in subscription.Msgs.ReadAllAsync())
        {
            var item = JsonDocument.Parse(msg.Data!).RootElement.GetProperty("item").GetString();
            await InsertAsync(db, item!);
        }
    }

    private static async Task SyncAsync(int port, string provider, string database)
    {
        await using DbDataSource db = provider == "sqlite" ? SqliteFactory.Instance.CreateDataSource(database) : NpgsqlDataSource.Create(database);
        await CreateTableAsync(db, provider);
        var app = BuildApi(port);
        app.MapPost("/todo", async (NewItem body) =>
        {
            if (string.IsNullOrWhiteSpace(body.Item))
            {
                return Results.BadRequest();
            }

            var id = await InsertAsync(db, body.Item);
            return Results.Created($"/todo/{id}", new { id, item = body.Item });
        });
        await app.RunAsync();
    }

    private static async Task CreateTableAsync(DbDataSource db, string provider)
    {
        var sql = provider == "sqlite"
            ? $"PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS {Table} (id INTEGER PRIMARY KEY, item TEXT NOT NULL, date_added TEXT NOT NULL)"
            : $"CREATE TABLE IF NOT EXISTS {Table} (id serial PRIMARY KEY, item text NOT NULL, date_added timestamptz NOT NULL)";
        await using var create = db.CreateCommand(sql);
        await create.ExecuteNonQueryAsync();
    }

    private static async Task<object?> InsertAsync(DbDataSource db, string item)
    {
        await using var insert = db.CreateCommand($"INSERT INTO {Table} (item, date_added) VALUES (@item, CURRENT_TIMESTAMP) RETURNING id");
        var parameter = insert.CreateParameter();
        parameter.ParameterName = "item";
        parameter.Value = item;
        insert.Parameters.Add(parameter);
        return await insert.ExecuteScalarAsync();
    }

    private sealed record NewItem(string? Item);
}
