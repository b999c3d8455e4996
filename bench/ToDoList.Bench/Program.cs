using System.Diagnostics;
using ToDoList.Messaging;
using ToDoList.Messaging.Embedded;

// dotnet run -c Release --project bench/ToDoList.Bench -- [pubsub|durable-consume] [--messages N] [--size BYTES]
// Each scenario runs ours and its baseline alternately, three rounds, and prints the medians last.
var scenario = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "pubsub";
var messages = Option("--messages", 1_000_000);
var size = Option("--size", 256);
var payload = new byte[size];

Func<Task<double>> ours = scenario switch
{
    "pubsub" => () => EmbeddedAsync(durable: false),
    "durable-consume" => () => EmbeddedAsync(durable: true),
    _ => throw new ArgumentException($"Unknown scenario '{scenario}'. Scenarios: pubsub, durable-consume."),
};

var oursRuns = new List<double>();
var baselineRuns = new List<double>();
for (var round = 1; round <= 3; round++)
{
    oursRuns.Add(await ours());
    baselineRuns.Add(await ChannelBaselineAsync());
    Console.WriteLine($"round {round}: ours={oursRuns[^1]:N0} msg/s baseline={baselineRuns[^1]:N0} msg/s");
}

var o = Median(oursRuns);
var b = Median(baselineRuns);
Console.WriteLine($"{scenario}: ours={o:F0} msg/s baseline={b:F0} msg/s ratio={o / b:F2}");
return;

// Ours: MessageBus over the embedded transport, one publisher, one subscriber, payload of `size` bytes.
async Task<double> EmbeddedAsync(bool durable)
{
    await using var bus = new MessageBus(new EmbeddedTransport());
    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    var received = 0;
    var options = durable ? new SubscribeOptions { QueueGroup = "bench", Durable = true } : new SubscribeOptions();
    await using var subscription = await bus.SubscribeAsync("bench.subject", (_, _) =>
    {
        if (++received == messages)
        {
            done.SetResult();
        }

        return ValueTask.CompletedTask;
    }, options);
    var stopwatch = Stopwatch.StartNew();
    for (var i = 0; i < messages; i++)
    {
        await bus.PublishAsync(new Message("bench.subject", payload));
    }

    await done.Task;
    return messages / stopwatch.Elapsed.TotalSeconds;
}

// Baseline: the in-process limit, a bounded Channel<T> with one writer and one reader.
async Task<double> ChannelBaselineAsync()
{
    var channel = System.Threading.Channels.Channel.CreateBounded<byte[]>(1024);
    var stopwatch = Stopwatch.StartNew();
    var reader = Task.Run(async () =>
    {
        var count = 0;
        await foreach (var _ in channel.Reader.ReadAllAsync())
        {
            count++;
        }

        return count;
    });
    for (var i = 0; i < messages; i++)
    {
        await channel.Writer.WriteAsync(payload);
    }

    channel.Writer.Complete();
    await reader;
    return messages / stopwatch.Elapsed.TotalSeconds;
}

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) ? value : fallback;
}

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
