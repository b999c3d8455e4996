using System.Diagnostics;
using Microsoft.Data.Sqlite;
using ToDoList.TestSupport;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>all-in-one</c>: the app with nothing installed. Ours: the published <c>todo</c> with no role (the embedded queue
/// and SQLite in a fresh temp folder, its working folder; both listeners on free loopback ports; logs at Warning, the
/// per-client rate limit off). Measured: ready time (start → <c>/healthz</c> 200), idle RSS a second later, then, after
/// a warm-up load (<see cref="EndToEnd.WarmAsync"/>), <c>POST /todo</c> from 64 closed-loop clients for the duration: items/s accepted and stored (rows in its SQLite
/// file once drained), p99, RSS after the load and at peak (VmHWM). Baseline: the synchronous design on SQLite
/// (<see cref="BaselineServers"/>: the API inserts the row itself, WAL), the same load.
/// Targets: ready ≤ 2 s, idle RSS ≤ 150 MB, ≥ 20k items/s.
/// </summary>
internal static class AllInOne
{
    private const int Clients = 64;

    private sealed record Run(double ReadySeconds, double IdleMb, double LoadedMb, double PeakMb, EndToEnd.Point Point);

    public static async Task RunAsync(BenchOptions options)
    {
        var duration = EndToEnd.PointDuration(options);
        Console.WriteLine($"all-in-one: todo with nothing installed, then POST /todo from {Clients} clients for {duration.TotalSeconds:0.#} s, {options.Rounds} round(s)");
        var ours = new List<Run>();
        var baseline = new List<EndToEnd.Point>();
        for (var round = 1; round <= options.Rounds; round++)
        {
            var run = await OursAsync(duration);
            ours.Add(run);
            Console.WriteLine($"  round {round}, ours: ready {run.ReadySeconds:F2} s, idle {run.IdleMb:F0} MB, loaded {run.LoadedMb:F0} MB, peak {run.PeakMb:F0} MB; "
                + $"{run.Point.Load.Summary}; stored {run.Point.Stored:N0} of {run.Point.Load.Succeeded:N0}, drained {run.Point.DrainedPerSecond:N0} rows/s; CPU {run.Point.CpuPerItem.TotalMicroseconds:N0} µs per item");
            baseline.Add(await SyncOnSqliteAsync(duration));
            Console.WriteLine($"  round {round}, synchronous on SQLite: {baseline[^1].Load.Summary}; CPU {baseline[^1].CpuPerItem.TotalMicroseconds:N0} µs per item");
        }

        double M(Func<Run, double> figure) => Compare.Median(ours.Select(figure));
        double B(Func<EndToEnd.Point, double> figure) => Compare.Median(baseline.Select(figure));
        Compare.Add($"all-in-one/{Clients} clients/vs synchronous on SQLite", "items/s", M(r => r.Point.Load.SucceededPerSecond), B(p => p.Load.SucceededPerSecond));
        Compare.Add($"all-in-one/{Clients} clients/p99 vs synchronous on SQLite", "ms", M(r => r.Point.Load.P99Ms), B(p => p.Load.P99Ms), decimals: 1);
        Compare.Add($"all-in-one/{Clients} clients/stored vs synchronous on SQLite", "rows/s", M(r => r.Point.DrainedPerSecond), B(p => p.DrainedPerSecond));

        Console.WriteLine();
        Console.WriteLine($"target ready ≤ 2 s: {M(r => r.ReadySeconds):F2} s");
        Console.WriteLine($"target idle RSS ≤ 150 MB: {M(r => r.IdleMb):F0} MB (after the load {M(r => r.LoadedMb):F0} MB, peak {M(r => r.PeakMb):F0} MB)");
        Console.WriteLine($"target ≥ 20k items/s: {M(r => r.Point.Load.SucceededPerSecond):N0} accepted/s, {M(r => r.Point.DrainedPerSecond):N0} stored/s, p99 {M(r => r.Point.Load.P99Ms):F1} ms, errors {M(r => r.Point.Load.ErrorPercent):F1} %");
    }

    private static async Task<Run> OursAsync(TimeSpan duration)
    {
        var folder = Directory.CreateTempSubdirectory("todo-bench-allinone-").FullName;
        try
        {
            var (web, api) = (ChildProcess.FreeLoopbackPort(), ChildProcess.FreeLoopbackPort());
            var environment = new Dictionary<string, string>
            {
                ["Logging__LogLevel__Default"] = "Warning",
                // 500/s per client address by default: every bench client is 127.0.0.1.
                ["Api__RateLimit__PermitsPerSecond"] = "0",
            };
            await PublishedApp.DirectoryAsync(); // Published before the clock starts: the first call may publish.
            var clock = Stopwatch.StartNew();
            await using var todo = await ChildProcess.StartAppAsync("todo", ["--urls", $"http://127.0.0.1:{web};http://127.0.0.1:{api}"], environment, folder);
            await todo.WaitHealthyAsync(new Uri($"http://127.0.0.1:{api}/healthz"), TimeSpan.FromSeconds(60));
            var ready = clock.Elapsed.TotalSeconds;
            await Task.Delay(TimeSpan.FromSeconds(1));
            var idle = Rss.Of(todo.Id).ResidentMb;

            var database = $"Data Source={Path.Combine(folder, "todo.db")}";
            var design = new EndToEnd.Design("ours", new Uri($"http://127.0.0.1:{api}/todo"), () => Task.FromResult(CountSqliteRows(database, "\"ToDoItems\"")), Queued: true, [todo]);
            await EndToEnd.WarmAsync(design, Clients);
            var point = await EndToEnd.MeasureAsync(design, Clients, duration);
            var loaded = Rss.Of(todo.Id);
            return new Run(ready, idle, loaded.ResidentMb, loaded.PeakMb, point);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<EndToEnd.Point> SyncOnSqliteAsync(TimeSpan duration)
    {
        var folder = Directory.CreateTempSubdirectory("todo-bench-sync-").FullName;
        var started = new List<IAsyncDisposable>();
        try
        {
            var design = await EndToEnd.StartSyncAsync("sqlite", $"Data Source={Path.Combine(folder, "items.db")}", started);
            await EndToEnd.WarmAsync(design, Clients);
            return await EndToEnd.MeasureAsync(design, Clients, duration);
        }
        finally
        {
            foreach (var item in started)
            {
                await item.DisposeAsync();
            }

            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Rows in a table of a SQLite file another process writes (WAL: reading does not block it).</summary>
    public static long CountSqliteRows(string connectionString, string table)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {table}";
        try
        {
            return (long)command.ExecuteScalar()!;
        }
        catch (SqliteException e) when (e.Message.Contains("no such table", StringComparison.Ordinal))
        {
            return 0;
        }
    }
}
