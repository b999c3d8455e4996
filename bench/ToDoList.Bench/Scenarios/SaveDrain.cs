using System.Diagnostics;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Npgsql;
using ToDoList.Messaging;
using ToDoList.TestSupport;
using Nuid = ToDoList.Messaging.Nuid;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>save-drain</c>: a backlog of new-item events on NATS JetStream drained into PostgreSQL. Ours: the published
/// app's <c>todo save-handler</c> process (batches of what has arrived, a partial one waiting 5 ms for more; one
/// insert per batch, acknowledged after commit). Baseline, the seed's design: one message at a time, one INSERT per message
/// (autocommit), acknowledged after it, over the same backlog.
/// </summary>
internal static class SaveDrain
{
    private const string Subject = "events.todo.newitem";

    public static async Task RunAsync(BenchOptions options, Brokers brokers)
    {
        var backlog = options.Messages ?? (options.Rounds == 1 ? 50_000 : 1_000_000);
        var appDir = await PublishedApp.DirectoryAsync();
        var postgres = await PostgresServer.GetAsync();
        try
        {
            foreach (var url in await brokers.UrlsAsync("nats"))
            {
                Console.WriteLine($"save-drain: {backlog:N0} new-item events on NATS JetStream into PostgreSQL");
                await Compare.RunAsync("save-drain/nats/postgres", "rows/s", options,
                    () => OursAsync(url, postgres, appDir, backlog),
                    () => SeedDesignAsync(url, postgres, Math.Min(backlog, 20_000), options.Duration));
            }
        }
        finally
        {
            await PostgresServer.StopAsync();
        }
    }

    private static async Task<double> OursAsync(string url, PostgresServer postgres, string appDir, int backlog)
    {
        var database = postgres.ConnectionString(await postgres.CreateDatabaseAsync("drain"));
        await using (var bus = await Brokers.ConnectAsync(url))
        {
            await bus.DeclareDurableGroupAsync(Subject, "save-handler");
            var sent = 0;
            async ValueTask Publish() => await bus.PublishAsync(Subject, new { item = $"drained item {++sent}" });
            await Load.SendCountAsync(backlog, Publish);
        }

        var start = new ProcessStartInfo(PublishedApp.DotnetHost(), [Path.Combine(appDir, "todo.dll"), "save-handler", "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["MessageQueue__Url"] = url,
                ["Database__Provider"] = "Postgres",
                ["ConnectionStrings__ToDoDb"] = database,
                // Information logs a line per item: measured as deployed, with warnings only.
                ["Logging__LogLevel__Default"] = "Warning",
            },
        };
        using var process = Process.Start(start)!;
        // Warnings and errors only (the log level above): shown, as they explain a slow run.
        var shown = 0;
        void Show(string? line)
        {
            if (line is not null && Interlocked.Increment(ref shown) <= 20)
            {
                Console.WriteLine($"    save-handler: {line}");
            }
        }

        process.OutputDataReceived += (_, e) => Show(e.Data);
        process.ErrorDataReceived += (_, e) => Show(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Timed from the first stored row, so the process's start-up is not counted.
            await using var db = NpgsqlDataSource.Create(database);
            long count;
            while ((count = await ProgressAsync(db)) == 0)
            {
                await Task.Delay(20);
            }

            var clock = Stopwatch.StartNew();
            var first = count;
            var deadline = Stopwatch.StartNew();
            // The handler's memory over the drain (the seed's grew to 1.5 GB by 63k messages): at each tenth, and its peak.
            var memory = new List<string>();
            long nextTenth = backlog / 10;
            double? tenthRss = null;
            // Progress by the highest id (the primary key's index: a count(*) every 50 ms would scan the growing table, taking
            // the database's CPU from the drain), then the exact count once it is near: a redelivery skips an id.
            while ((count = await ProgressAsync(db)) < backlog || (count = await CountAsync(db)) < backlog)
            {
                if (deadline.Elapsed > TimeSpan.FromMinutes(10) || process.HasExited)
                {
                    throw new TimeoutException($"save-drain: {count} of {backlog} rows stored.");
                }

                if (count >= nextTenth)
                {
                    var rss = Rss.Of(process.Id);
                    tenthRss ??= rss.ResidentMb;
                    memory.Add($"{count / 1000:N0}k: {rss.ResidentMb:F0} MB");
                    nextTenth = ((count / (backlog / 10)) + 1) * (backlog / 10);
                }

                await Task.Delay(50);
            }

            var rate = (backlog - first) / clock.Elapsed.TotalSeconds;
            if (tenthRss is { } firstRss)
            {
                var last = Rss.Of(process.Id);
                Console.WriteLine($"    save-handler memory: {string.Join(", ", memory)}; at the end {last.ResidentMb:F0} MB, peak {last.PeakMb:F0} MB "
                    + $"({(last.ResidentMb - firstRss) * 100 / firstRss:+0;-0}% from the first tenth)");
            }

            return rate;
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>The seed's save handler: a message, an INSERT, an acknowledgement; for the duration, or the backlog.</summary>
    private static async Task<double> SeedDesignAsync(string url, PostgresServer postgres, int backlog, TimeSpan duration)
    {
        var database = postgres.ConnectionString(await postgres.CreateDatabaseAsync("seed"));
        await using var db = NpgsqlDataSource.Create(database);
        await using (var create = db.CreateCommand("""CREATE TABLE "SeedItems" ("Id" serial PRIMARY KEY, "Item" text NOT NULL, "DateAdded" timestamptz NOT NULL)"""))
        {
            await create.ExecuteNonQueryAsync();
        }

        var subject = $"seeddrain.{Nuid.Next()}";
        await using var nats = new NatsConnection(new NatsOpts { Url = url });
        var js = new NatsJSContext(nats);
        await js.CreateOrUpdateStreamAsync(new StreamConfig("SEEDDRAIN", ["seeddrain.>"]));
        var consumer = await js.CreateOrUpdateConsumerAsync("SEEDDRAIN", new ConsumerConfig($"c{Nuid.Next()}") { FilterSubject = subject, AckPolicy = ConsumerConfigAckPolicy.Explicit });
        var sent = 0;
        async ValueTask Publish() => (await js.PublishAsync(subject, JsonSerializer.SerializeToUtf8Bytes(new { item = $"seed item {++sent}" }))).EnsureSuccess();
        await Load.SendCountAsync(backlog, Publish);

        long stored = 0;
        var clock = Stopwatch.StartNew();
        await foreach (var msg in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = 1 }))
        {
            var item = JsonDocument.Parse(msg.Data!).RootElement.GetProperty("item").GetString();
            await using var insert = db.CreateCommand("""INSERT INTO "SeedItems" ("Item", "DateAdded") VALUES ($1, now())""");
            insert.Parameters.Add(new NpgsqlParameter { Value = item });
            await insert.ExecuteNonQueryAsync();
            await msg.AckAsync();
            if (++stored >= backlog || clock.Elapsed > duration)
            {
                break;
            }
        }

        return stored / clock.Elapsed.TotalSeconds;
    }

    private static Task<long> CountAsync(NpgsqlDataSource db) => ScalarAsync(db, """SELECT count(*) FROM "ToDoItems" """);

    private static Task<long> ProgressAsync(NpgsqlDataSource db) => ScalarAsync(db, """SELECT coalesce(max("Id"), 0)::bigint FROM "ToDoItems" """);

    private static async Task<long> ScalarAsync(NpgsqlDataSource db, string query)
    {
        try
        {
            await using var command = db.CreateCommand(query);
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0; // Not migrated yet.
        }
    }
}
