using System.Diagnostics;
using Npgsql;
using ToDoList.TestSupport;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>e2e</c>: HTTP <c>POST /todo</c> to a row in PostgreSQL, at 8, 64 and 256 closed-loop clients (each posts, waits
/// for the answer, posts again) for the duration, everything on this machine. Ours: the published app as separate
/// processes, <c>todo api</c> (202) and <c>todo save-handler</c>, on NATS JetStream (durable) and PostgreSQL, logs at
/// Warning, the API's per-client rate limit off (every request comes from 127.0.0.1). Baselines, each in processes of
/// their own (<see cref="BaselineServers"/>): the seed's design (a new NATS connection per request, NATS core, a save
/// handler inserting one row per message) and the synchronous design (the API inserts the row itself, 201).
/// Measured per point: 2xx/s, errors, p50/p99/p999 of the POST; for the queue designs the rows stored (after the
/// backlog drains, with a deadline) and the drained rows/s, after a warm-up load of each design. Draws the latencies
/// into docs/benchmarks-e2e.svg.
/// </summary>
internal static class EndToEnd
{
    private static readonly int[] ClientCounts = [8, 64, 256];
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private static readonly byte[] Body = """{"item":"an item posted by the e2e bench"}"""u8.ToArray();

    /// <summary>A design under test: where to post, how to count its rows, and its server processes (for their CPU time).</summary>
    internal sealed record Design(string Name, Uri Post, Func<Task<long>> CountRows, bool Queued, IReadOnlyList<ChildProcess> Servers);

    /// <summary>
    /// One measurement. <paramref name="CpuPerItem"/>: the servers' CPU time per stored item (load and drain; the
    /// broker's and the database's not counted), <paramref name="CpuSplit"/> the same per server process;
    /// </summary>
    internal sealed record Point(string Design, int Clients, HttpLoadResult Load, long Stored, double DrainedPerSecond, TimeSpan CpuPerItem, string CpuSplit);

    /// <summary>
    /// Load before the first point, not counted: a process's first seconds run code the JIT has not optimised yet (the
    /// all-in-one took ~9k items/s over its first 3 s of load and ~14k from its tenth), which a sustained load does not see.
    /// </summary>
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(10);

    /// <summary>At least 2 s a point: a closed loop needs a moment to settle.</summary>
    public static TimeSpan PointDuration(BenchOptions options) => options.Duration < TimeSpan.FromSeconds(2) ? TimeSpan.FromSeconds(2) : options.Duration;

    public static async Task RunAsync(BenchOptions options, Brokers brokers)
    {
        var natsUrl = (await brokers.UrlsAsync("nats")).FirstOrDefault() ?? throw new ArgumentException("e2e runs on NATS: give a nats:// --url, or none.");
        var duration = PointDuration(options);
        var started = new List<IAsyncDisposable>();
        try
        {
            var postgres = await PostgresServer.GetAsync();
            Console.WriteLine($"e2e: POST /todo → PostgreSQL, {string.Join('/', ClientCounts)} clients, {duration.TotalSeconds:0.#} s a point, {options.Rounds} round(s)");
            Design[] designs =
            [
                await StartOursAsync(natsUrl, postgres, started),
                await StartSeedAsync(natsUrl, postgres, started),
                await StartSyncAsync("postgres", postgres.ConnectionString(await postgres.CreateDatabaseAsync("e2esync")), started),
            ];
            foreach (var design in designs)
            {
                await WarmAsync(design, ClientCounts[1]);
            }

            var points = new List<Point>();
            for (var round = 1; round <= options.Rounds; round++)
            {
                foreach (var clients in ClientCounts)
                {
                    foreach (var design in designs)
                    {
                        var point = await MeasureAsync(design, clients, duration);
                        Console.WriteLine($"  round {round}, {design.Name}, {clients} clients: {point.Load.Summary}"
                            + (design.Queued ? $"; stored {point.Stored:N0} of {point.Load.Succeeded:N0} accepted, drained {point.DrainedPerSecond:N0} rows/s" : "")
                            + $"; server CPU µs per item: {point.CpuSplit}; load generator {point.Load.GeneratorCpuPerRequest.TotalMicroseconds:N0} µs CPU per request");
                        points.Add(point);
                    }
                }
            }

            Report(Medians(points), options);
        }
        finally
        {
            started.Reverse();
            foreach (var item in started)
            {
                await item.DisposeAsync();
            }

            await PostgresServer.StopAsync();
        }
    }

    /// <summary>Ours: <c>todo api</c> and <c>todo save-handler</c> on NATS JetStream and a fresh PostgreSQL database.</summary>
    private static async Task<Design> StartOursAsync(string natsUrl, PostgresServer postgres, List<IAsyncDisposable> started)
    {
        var database = postgres.ConnectionString(await postgres.CreateDatabaseAsync("e2e"));
        var environment = new Dictionary<string, string>
        {
            ["MessageQueue__Url"] = natsUrl,
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__ToDoDb"] = database,
            // Information logs a line per item: measured as deployed, with warnings only.
            ["Logging__LogLevel__Default"] = "Warning",
            // 500/s per client address by default: every bench client is 127.0.0.1.
            ["Api__RateLimit__PermitsPerSecond"] = "0",
        };
        var apiPort = ChildProcess.FreeLoopbackPort();
        var api = await ChildProcess.StartAppAsync("todo api", ["api", "--urls", $"http://127.0.0.1:{apiPort}"], environment);
        started.Add(api);
        await api.WaitHealthyAsync(new Uri($"http://127.0.0.1:{apiPort}/healthz"), StartDeadline);
        var handlerPort = ChildProcess.FreeLoopbackPort();
        var handler = await ChildProcess.StartAppAsync("todo save-handler", ["save-handler", "--urls", $"http://127.0.0.1:{handlerPort}"], environment);
        started.Add(handler);
        await handler.WaitHealthyAsync(new Uri($"http://127.0.0.1:{handlerPort}/healthz"), StartDeadline);
        var db = NpgsqlDataSource.Create(database);
        started.Add(db);
        return new Design("ours", new Uri($"http://127.0.0.1:{apiPort}/todo"), () => CountAsync(db, "\"ToDoItems\""), Queued: true, [api, handler]);
    }

    /// <summary>The seed's design: its API and one save handler, on NATS core (a subject of its own) and a fresh database.</summary>
    private static async Task<Design> StartSeedAsync(string natsUrl, PostgresServer postgres, List<IAsyncDisposable> started)
    {
        var database = postgres.ConnectionString(await postgres.CreateDatabaseAsync("e2eseed"));
        const string subject = "seed.todo.newitem";
        var handler = ChildProcess.StartBaseline("seed save-handler", "seed-save-handler", natsUrl, subject, database);
        started.Add(handler);
        await handler.WaitReadyAsync(StartDeadline);
        var port = ChildProcess.FreeLoopbackPort();
        var api = ChildProcess.StartBaseline("seed api", "seed-api", port.ToString(System.Globalization.CultureInfo.InvariantCulture), natsUrl, subject);
        started.Add(api);
        await api.WaitHealthyAsync(new Uri($"http://127.0.0.1:{port}/healthz"), StartDeadline);
        var db = NpgsqlDataSource.Create(database);
        started.Add(db);
        return new Design("seed design", new Uri($"http://127.0.0.1:{port}/todo"), () => CountAsync(db, BaselineServers.Table), Queued: true, [api, handler]);
    }

    /// <summary>The synchronous design: an API that inserts the row itself.</summary>
    public static async Task<Design> StartSyncAsync(string provider, string database, List<IAsyncDisposable> started)
    {
        var port = ChildProcess.FreeLoopbackPort();
        var api = ChildProcess.StartBaseline("sync api", "sync", port.ToString(System.Globalization.CultureInfo.InvariantCulture), provider, database);
        started.Add(api);
        await api.WaitHealthyAsync(new Uri($"http://127.0.0.1:{port}/healthz"), StartDeadline);
        Func<Task<long>> count;
        if (provider == "sqlite")
        {
            count = () => Task.FromResult(AllInOne.CountSqliteRows(database, BaselineServers.Table));
        }
        else
        {
            var db = NpgsqlDataSource.Create(database);
            started.Add(db);
            count = () => CountAsync(db, BaselineServers.Table);
        }

        return new Design("synchronous", new Uri($"http://127.0.0.1:{port}/todo"), count, Queued: false, [api]);
    }

    /// <summary>Loads <paramref name="design"/> for <see cref="WarmUp"/>, shown and not counted.</summary>
    public static async Task WarmAsync(Design design, int clients)
    {
        var point = await MeasureAsync(design, clients, WarmUp);
        Console.WriteLine($"  warm-up, {design.Name}, {clients} clients, {WarmUp.TotalSeconds:0} s (not counted): {point.Load.Summary}");
    }

    /// <summary>One point: the load, then (queue designs) the wait until every accepted item is stored, or no row came for 3 s, or 2 minutes.</summary>
    public static async Task<Point> MeasureAsync(Design design, int clients, TimeSpan duration)
    {
        var before = await design.CountRows();
        var cpuBefore = design.Servers.Select(s => s.CpuTime()).ToList();
        var clock = Stopwatch.StartNew();
        var load = await HttpLoad.PostAsync(design.Post, Body, clients, duration, RequestTimeout);
        var stored = await design.CountRows() - before;
        var lastRowAt = clock.Elapsed;
        while (design.Queued && stored < load.Succeeded && clock.Elapsed - lastRowAt < TimeSpan.FromSeconds(3) && clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(50);
            var now = await design.CountRows() - before;
            if (now > stored)
            {
                (stored, lastRowAt) = (now, clock.Elapsed);
            }
        }

        if (design.Servers.FirstOrDefault(s => s.HasExited) is { } gone)
        {
            throw new InvalidOperationException($"{design.Name}: {gone.Name} exited during the run (its output is shown above).");
        }

        var cpu = design.Servers.Select((s, i) => s.CpuTime() - cpuBefore[i]).ToList();
        TimeSpan PerItem(TimeSpan time) => stored == 0 ? TimeSpan.Zero : time / stored;
        var split = string.Join(" + ", design.Servers.Select((s, i) => $"{s.Name} {PerItem(cpu[i]).TotalMicroseconds:N0}"));
        return new Point(design.Name, clients, load, stored, stored / lastRowAt.TotalSeconds, PerItem(cpu.Aggregate(TimeSpan.Zero, (a, b) => a + b)), split);
    }

    public static async Task<long> CountAsync(NpgsqlDataSource db, string table)
    {
        await using var command = db.CreateCommand($"SELECT count(*) FROM {table}");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A design at a client count over the rounds: the median of each figure.</summary>
    internal sealed record Median(string Design, int Clients, double PerSecond, double P50, double P99, double P999, double ErrorPercent, long Errors, long Accepted, long Stored, double DrainedPerSecond, double CpuMicrosPerItem);

    private static List<Median> Medians(List<Point> points) =>
        [.. points.GroupBy(p => (p.Design, p.Clients)).Select(g => new Median(g.Key.Design, g.Key.Clients,
            Compare.Median(g.Select(p => p.Load.SucceededPerSecond)),
            Compare.Median(g.Select(p => p.Load.P50Ms)),
            Compare.Median(g.Select(p => p.Load.P99Ms)),
            Compare.Median(g.Select(p => p.Load.P999Ms)),
            Compare.Median(g.Select(p => p.Load.ErrorPercent)),
            (long)Compare.Median(g.Select(p => (double)p.Load.Errors)),
            (long)Compare.Median(g.Select(p => (double)p.Load.Succeeded)),
            (long)Compare.Median(g.Select(p => (double)p.Stored)),
            Compare.Median(g.Select(p => p.DrainedPerSecond)),
            Compare.Median(g.Select(p => p.CpuPerItem.TotalMicroseconds))))];

    private static void Report(List<Median> medians, BenchOptions options)
    {
        Median Of(string design, int clients) => medians.Single(m => m.Design == design && m.Clients == clients);
        foreach (var clients in ClientCounts)
        {
            var ours = Of("ours", clients);
            foreach (var (baseline, label) in new[] { (Of("seed design", clients), "seed"), (Of("synchronous", clients), "synchronous") })
            {
                Compare.Add($"e2e/{clients} clients/vs {label}", "items/s", ours.PerSecond, baseline.PerSecond);
                Compare.Add($"e2e/{clients} clients/p99 vs {label}", "ms", ours.P99, baseline.P99, decimals: 1);
            }

            Compare.Add($"e2e/{clients} clients/drained vs seed", "rows/s", ours.DrainedPerSecond, Of("seed design", clients).DrainedPerSecond);
        }

        Console.WriteLine();
        Console.WriteLine("| design | clients | 2xx req/s | p50 ms | p99 ms | p999 ms | errors | stored of accepted | drained rows/s | server CPU µs/item |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var m in medians.OrderBy(m => m.Clients))
        {
            Console.WriteLine($"| {m.Design} | {m.Clients} | {m.PerSecond:N0} | {m.P50:F1} | {m.P99:F1} | {m.P999:F1} | {m.Errors:N0} ({m.ErrorPercent:F1} %) | {m.Stored:N0} of {m.Accepted:N0} | {m.DrainedPerSecond:N0} | {m.CpuMicrosPerItem:N0} |");
        }

        var (at8, at64, at256) = (Of("ours", 8), Of("ours", 64), Of("ours", 256));
        Console.WriteLine();
        Console.WriteLine($"target ≥ 15k items/s at 64 clients with p99 ≤ 25 ms: {Verdict(at64.PerSecond >= 15_000 && at64.P99 <= 25)} ({at64.PerSecond:N0} items/s, p99 {at64.P99:F1} ms)");
        Console.WriteLine($"target p99 at 256 clients ≤ 2× p99 at 8, no errors: {Verdict(at256.P99 <= 2 * at8.P99 && at256.Errors == 0)} ({at256.P99:F1} vs {at8.P99:F1} ms, {at256.Errors:N0} errors)");
        // The chart docs/benchmarks.md shows comes from full runs; a --quick check draws its own in the temp folder.
        var chart = options.Rounds > 1
            ? Path.Combine(PublishedApp.RepositoryRoot(), "docs", "benchmarks-e2e.svg")
            : Path.Combine(Path.GetTempPath(), "benchmarks-e2e.svg");
        File.WriteAllText(chart, LatencyChart.Svg(medians, ClientCounts, DateTime.Now));
        Console.WriteLine($"chart: {chart}");
    }

    private static string Verdict(bool met) => met ? "met" : "missed";
}
