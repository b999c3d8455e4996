using System.Diagnostics;
using System.Globalization;
using JasperFx;
using Microsoft.Extensions.Hosting;
using ToDoList.Messaging;
using ToDoList.Messaging.Embedded;
using Wolverine;
using Wolverine.Sqlite;
using Nuid = ToDoList.Messaging.Nuid;

namespace ToDoList.Bench.Scenarios;

/// <summary>
/// <c>embedded</c>: in-process publish → handle, ours against Wolverine's local queues, publishing and handling at once for
/// the duration (up to 256 publishes in flight). <c>memory</c>: our <c>memory://</c> transport with a plain subscription
/// (nothing kept, no acknowledgement, as in Wolverine's in-memory local queue; ours is bounded, its publisher waits,
/// where Wolverine's queue grows with the backlog) against Wolverine's in-memory local queue. <c>durable</c>: our <c>embedded://</c> with a durable group in a SQLite queue file (a publish
/// returns once committed, the member acknowledges after its handler) against Wolverine's durable local queue with its
/// SQLite message store. Each run is a process of its own (this program again, <c>embedded-run</c>) in a new temp folder,
/// so its RSS is its own: the runtime (server GC, as the bench runs), the bench, and that one peer, never what the other left. Start-up (building,
/// starting, first message handled) is timed apart and left out of the rate; so is a second of load after it, as a fresh
/// process's first second runs half-jitted code (ours: 0.4M msg/s in a first second, 1.1M over three).
/// </summary>
internal static class Embedded
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(BenchOptions options)
    {
        foreach (var durable in new[] { false, true })
        {
            foreach (var size in options.Sizes)
            {
                var kind = durable ? "durable" : "memory";
                var name = $"embedded/{kind}/{size}B";
                var ours = new List<Run>();
                var wolverine = new List<Run>();
                Console.WriteLine(durable
                    ? $"embedded, durable, {size} B: embedded:// durable group in a SQLite file vs Wolverine durable local queue on SQLite"
                    : $"embedded, in memory, {size} B: memory:// plain subscription vs Wolverine local queue");
                await Compare.RunAsync(name, "msg/s", options,
                    () => InProcessOfItsOwnAsync(ours, "ours", kind, size, options.Duration),
                    () => InProcessOfItsOwnAsync(wolverine, "wolverine", kind, size, options.Duration));
                Compare.Results.Add($"{name} start-up to first message handled: ours={Median(ours, r => r.StartUp.TotalMilliseconds):F0} ms baseline={Median(wolverine, r => r.StartUp.TotalMilliseconds):F0} ms");
                Compare.Results.Add($"{name} RSS of a process running only that peer, peak / after disposing: ours={Median(ours, r => r.PeakMb):F0} / {Median(ours, r => r.AfterMb):F0} MB baseline={Median(wolverine, r => r.PeakMb):F0} / {Median(wolverine, r => r.AfterMb):F0} MB");
            }
        }
    }

    /// <summary>
    /// <c>embedded-run ours|wolverine memory|durable SIZE SECONDS</c>: one run in this process, printed as one line
    /// <c>RUN rate start-up-ms peak-MB after-MB</c> for the parent to read.
    /// </summary>
    public static async Task RunOneAsync(string[] args)
    {
        var payload = new byte[int.Parse(args[3], CultureInfo.InvariantCulture)];
        var duration = TimeSpan.FromSeconds(double.Parse(args[4], CultureInfo.InvariantCulture));
        var durable = args[2] == "durable";
        var (rate, startUp) = args[1] == "ours" ? await OursAsync(payload, durable, duration) : await WolverineAsync(payload, durable, duration);
        var peak = Rss.OfThisProcess().PeakMb;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Console.WriteLine(FormattableString.Invariant($"RUN {rate:F0} {startUp.TotalMilliseconds:F0} {peak:F0} {Rss.OfThisProcess().ResidentMb:F0}"));
    }

    /// <summary>One run: its rate after start-up, how long start-up took, the process's peak RSS and its RSS after disposing.</summary>
    private sealed record Run(double Rate, TimeSpan StartUp, double PeakMb, double AfterMb);

    private static async Task<double> InProcessOfItsOwnAsync(List<Run> runs, string peer, string kind, int size, TimeSpan duration)
    {
        // dotnet run starts the apphost; `dotnet ToDoList.Bench.dll` starts dotnet, which needs the dll named again.
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(Embedded).Assembly.Location);
        }

        foreach (var arg in new[] { "embedded-run", peer, kind, size.ToString(CultureInfo.InvariantCulture), duration.TotalSeconds.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"embedded-run {peer} {kind} {size}: not done after two minutes.");
        }

        var line = (await output).Split('\n').LastOrDefault(l => l.StartsWith("RUN ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"embedded-run {peer} {kind} {size} exited {process.ExitCode}: {await errors}");
        var f = line.Split(' ').Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var run = new Run(f[0], TimeSpan.FromMilliseconds(f[1]), f[2], f[3]);
        runs.Add(run);
        Console.WriteLine($"    {peer}: start-up {run.StartUp.TotalMilliseconds:N0} ms, RSS peak {run.PeakMb:N0} MB, after disposing {run.AfterMb:N0} MB");
        return run.Rate;
    }

    private static async Task<(double Rate, TimeSpan StartUp)> OursAsync(byte[] payload, bool durable, TimeSpan duration)
    {
        var folder = Directory.CreateTempSubdirectory("todo-bench-embedded-");
        try
        {
            var clock = Stopwatch.StartNew();
            var subject = $"bench.{Nuid.Next()}";
            long received = 0;
            var transport = durable
                ? new EmbeddedTransport("embedded", new EmbeddedOptions { FilePath = Path.Combine(folder.FullName, "queue.db") })
                : new EmbeddedTransport();
            await using var bus = new MessageBus(transport);
            await bus.ConnectAsync();
            var subscribe = new SubscribeOptions();
            if (durable)
            {
                await bus.DeclareDurableGroupAsync(subject, "bench");
                subscribe = new SubscribeOptions { QueueGroup = "bench", Durable = true };
            }

            await bus.SubscribeAsync(subject, (_, _) =>
            {
                Interlocked.Increment(ref received);
                return ValueTask.CompletedTask;
            }, subscribe);

            ValueTask Publish() => bus.PublishAsync(new Message(subject, payload));
            await PubSub.WarmUpAsync(Publish, () => Interlocked.Read(ref received));
            var startUp = clock.Elapsed;
            await Load.ThroughputAsync(WarmUp, Publish, () => Interlocked.Read(ref received), $"ours warm-up {subject}");
            var rate = await Load.ThroughputAsync(duration, Publish, () => Interlocked.Read(ref received), $"ours {subject}");
            return (rate, startUp);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task<(double Rate, TimeSpan StartUp)> WolverineAsync(byte[] payload, bool durable, TimeSpan duration)
    {
        var folder = Directory.CreateTempSubdirectory("todo-bench-wolverine-");
        try
        {
            var clock = Stopwatch.StartNew();
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.UseWolverine(opts =>
            {
                opts.Discovery.DisableConventionalDiscovery().IncludeType(typeof(LocalMessageHandler));
                opts.PublishMessage<LocalMessage>().ToLocalQueue("bench");
                if (durable)
                {
                    // One process, as the all-in-one is: no leader election between nodes.
                    opts.Durability.Mode = DurabilityMode.Solo;
                    opts.AutoBuildMessageStorageOnStartup = AutoCreate.CreateOrUpdate;
                    opts.PersistMessagesWithSqlite($"Data Source={Path.Combine(folder.FullName, "wolverine.db")}");
                    opts.LocalQueue("bench").UseDurableInbox();
                }
            });
            using var host = builder.Build();
            await host.StartAsync();
            try
            {
                var bus = host.MessageBus();
                ValueTask Publish() => bus.PublishAsync(new LocalMessage(payload));
                await PubSub.WarmUpAsync(Publish, LocalMessageHandler.Received);
                var startUp = clock.Elapsed;
                await Load.ThroughputAsync(WarmUp, Publish, LocalMessageHandler.Received, "Wolverine warm-up");
                var rate = await Load.ThroughputAsync(duration, Publish, LocalMessageHandler.Received, "Wolverine");
                return (rate, startUp);
            }
            finally
            {
                await host.StopAsync();
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static double Median(List<Run> runs, Func<Run, double> value) => runs.Select(value).Order().ElementAt(runs.Count / 2);
}

/// <summary>Wolverine's message: the payload by reference in memory, serialized into its store when durable.</summary>
public sealed record LocalMessage(byte[] Data);

/// <summary>Wolverine's handler: counts.</summary>
public static class LocalMessageHandler
{
    private static long _received;

    public static long Received() => Interlocked.Read(ref _received);

    public static void Handle(LocalMessage message) => Interlocked.Increment(ref _received);
}
