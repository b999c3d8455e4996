using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ToDoList.Messaging.Tests.Servers;

namespace ToDoList.ProcessTests;

/// <summary>
/// Nothing accepted is lost, nothing is stored twice, whatever fails mid-burst: the queue restarts, the database goes
/// away for seconds, a save handler is killed. Clients post with an <c>Idempotency-Key</c> and post again on a 503 or a
/// lost connection, as a careful client does; in the end the database holds every item answered 202 exactly once,
/// audited once. Written once, run on every broker; the embedded default has its own crash test (<see cref="EmbeddedCrashTests"/>).
/// </summary>
public abstract class FaultTests(Servers servers, ITestOutputHelper output, QueueKind queue) : ProcessTest(servers, output)
{
    private const int Posters = 8;
    private const int Burst = 240;
    private const int FaultAfter = 60;
    private static readonly TimeSpan DrainDeadline = TimeSpan.FromSeconds(90);

    [Fact]
    public Task A_queue_restart_mid_burst_loses_nothing_accepted() =>
        BurstThroughFaultAsync(async broker =>
        {
            var clock = Stopwatch.StartNew();
            await broker.RestartAsync();
            Log($"the queue was down {clock.ElapsedMilliseconds} ms");
        });

    [Fact]
    public Task The_database_down_mid_burst_delays_items_but_loses_none() =>
        BurstThroughFaultAsync(async _ =>
        {
            await Servers.Postgres.PauseAsync();
            try
            {
                // The outage itself: longer than every ordinary retry of a message together (about 3 s).
                await Task.Delay(TimeSpan.FromSeconds(8));
            }
            finally
            {
                await Servers.Postgres.ResumeAsync();
            }
        });

    [Fact]
    public Task A_save_handler_killed_mid_burst_hands_its_messages_to_the_other() =>
        BurstThroughFaultAsync((_, handlers) => handlers[0].KillAsync());

    private Task BurstThroughFaultAsync(Func<Broker, Task> fault) => BurstThroughFaultAsync((broker, _) => fault(broker));

    private async Task BurstThroughFaultAsync(Func<Broker, TodoProcess[], Task> fault)
    {
        await using var broker = await Broker.StartAsync(queue, Servers);
        var connectionString = await Servers.NewDatabaseAsync();
        var database = new TodoDatabase(connectionString);
        await using var deployment = new Deployment(Servers.AppDir, broker.Url, connectionString, Output);
        // A killed member's messages come back after the ack wait: short here, so the test need not wait 30 s.
        deployment.Settings["MessageQueue__AckWait"] = "00:00:05";
        var handlers = deployment.StartHandlersAsync("save-handler", 2);
        var audit = deployment.StartHandlerAsync("audit-handler");
        var api = deployment.StartListeningAsync("api");
        await Task.WhenAll(handlers, audit, api);
        using var client = Deployment.ClientOf(await api);
        client.Timeout = TimeSpan.FromSeconds(10);

        var accepted = new ConcurrentDictionary<string, string>();
        var retried = 0;
        var faultStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = -1;
        var posters = Enumerable.Range(0, Posters).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < Burst; i = Interlocked.Increment(ref next))
            {
                var text = Unique($"Fault item {i}");
                var key = Guid.NewGuid().ToString("N");
                var tries = await PostUntilAcceptedAsync(client, text, key, () => deployment.Logs());
                Interlocked.Add(ref retried, tries - 1);
                accepted[key] = text;
                if (accepted.Count == FaultAfter)
                {
                    faultStarted.TrySetResult();
                }
            }
        })).ToList();

        await faultStarted.Task.WaitAsync(DrainDeadline);
        var faulting = fault(broker, await handlers);
        await Task.WhenAll(posters);
        await faulting;
        Log($"{accepted.Count} accepted, {retried} posts tried again on a 503 or a lost connection");

        var stored = await TimedAsync(
            () => database.WaitForItemsAsync(items => items.Count >= Burst, $"all {Burst} accepted items stored", DrainDeadline, () => deployment.Logs()),
            elapsed => Log($"all stored {elapsed.TotalMilliseconds:0} ms after the last 202"));
        Assert.Equal(accepted.Keys.Order(StringComparer.Ordinal), stored.Select(i => i.EventId).Order(StringComparer.Ordinal));
        Assert.Equal(accepted.Values.Order(StringComparer.Ordinal), stored.Select(i => i.Item).Order(StringComparer.Ordinal));

        // The audit handler runs beside the save handlers, at its own pace: every accepted item audited, once.
        var deadline = Stopwatch.StartNew();
        IReadOnlyList<string> audited;
        while ((audited = await database.AuditedEventIdsAsync()).Count < Burst && deadline.Elapsed < DrainDeadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal(accepted.Keys.Order(StringComparer.Ordinal), audited.Order(StringComparer.Ordinal));
    }

    /// <summary>POSTs the item until it is answered 202, the same key each time; answers how many tries it took.</summary>
    private static async Task<int> PostUntilAcceptedAsync(HttpClient client, string text, string key, Func<string> logs)
    {
        var deadline = Stopwatch.StartNew();
        for (var tries = 1; ; tries++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/todo")
            {
                Content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"item":"{{text}}"}""")) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
                Headers = { { "Idempotency-Key", key } },
            };
            try
            {
                using var response = await client.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    return tries;
                }

                // 503: the queue is away and the item was not accepted. Anything else is a bug.
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"POST answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{logs()}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // No answer: it may or may not have been accepted; the same key makes posting again safe.
            }

            Assert.True(deadline.Elapsed < DrainDeadline, $"'{text}' not accepted after {tries} tries.\n{logs()}");
            await Task.Delay(100);
        }
    }

    /// <summary>The scenario's queue: restartable with its data kept, and nothing durable left from former scenarios.</summary>
    protected sealed class Broker : IAsyncDisposable
    {
        private readonly Func<Task> _restart;
        private readonly Func<ValueTask> _dispose;

        private Broker(string url, Func<Task> restart, Func<ValueTask> dispose) => (Url, _restart, _dispose) = (url, restart, dispose);

        public string Url { get; }

        public static async Task<Broker> StartAsync(QueueKind queue, Servers servers)
        {
            switch (queue)
            {
                case QueueKind.Nats:
                    var nats = servers.Nats;
                    return new Broker(await servers.FreshQueueUrlAsync(queue), async () => { await nats.StopAsync(); await nats.StartAgainAsync(); }, () => ValueTask.CompletedTask);
                case QueueKind.Redis:
                    // Its own server, persisting every write (the run's shared one keeps nothing): what was accepted survives the restart.
                    string[] persistent = ["--appendonly", "yes", "--appendfsync", "always"];
                    var redis = await RedisServer.StartAsync(persistent);
                    return new Broker(redis.Url, async () => { await redis.StopAsync(); await redis.StartAgainAsync(persistent); }, redis.DisposeAsync);
                case QueueKind.RabbitMq:
                    var url = await servers.FreshQueueUrlAsync(queue);
                    var rabbitMq = await servers.RabbitMqAsync();
                    return new Broker(url, async () => { await rabbitMq.StopAsync(); await rabbitMq.StartAgainAsync(); }, () => ValueTask.CompletedTask);
                default:
                    throw new ArgumentOutOfRangeException(nameof(queue), queue, null);
            }
        }

        public Task RestartAsync() => _restart();

        public ValueTask DisposeAsync() => _dispose();
    }
}

public sealed class NatsFaultTests(Servers servers, ITestOutputHelper output) : FaultTests(servers, output, QueueKind.Nats);

public sealed class RedisFaultTests(Servers servers, ITestOutputHelper output) : FaultTests(servers, output, QueueKind.Redis);

public sealed class RabbitMqFaultTests(Servers servers, ITestOutputHelper output) : FaultTests(servers, output, QueueKind.RabbitMq);
