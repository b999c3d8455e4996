using ToDoList.Bench;
using ToDoList.Bench.Scenarios;

// dotnet run -c Release --project bench/ToDoList.Bench -- SCENARIO [--url URL] [--duration S] [--size BYTES] [--messages N] [--quick]
// Each scenario runs ours and its baseline alternately in the same run (three rounds, one with --quick),
// prints progress while it runs and, last, one line per comparison:
//   SCENARIO/TRANSPORT/...: ours=<n> <unit> baseline=<n> <unit> ratio=<r>
// Without --url it starts its own nats-server, redis-server and rabbitmq-server on loopback ports.
if (args is ["serve", .. var serve])
{
    // The baseline designs of e2e and all-in-one, started by the bench itself in processes of their own.
    await BaselineServers.RunAsync(serve);
    return;
}

var options = BenchOptions.Parse(args);
await using (var brokers = new Brokers(options.Url))
{
    await (options.Scenario switch
    {
        "pubsub" => PubSub.RunAsync(options, brokers, queueGroup: false),
        "queue-group" => PubSub.RunAsync(options, brokers, queueGroup: true),
        "request-reply" => RequestReply.RunAsync(options, brokers),
        "durable-publish" => DurablePublish.RunAsync(options, brokers),
        "durable-consume" => DurableConsume.RunAsync(options, brokers),
        "save-drain" => SaveDrain.RunAsync(options, brokers),
        "telemetry" => Telemetry.RunAsync(options),
        "e2e" => EndToEnd.RunAsync(options, brokers),
        "all-in-one" => AllInOne.RunAsync(options),
        "rabbitmq-peer" => RabbitMqPeer.RunAsync(options, brokers),
        "embedded" => Embedded.RunAsync(options),
        // Not a scenario: one run of `embedded`, which starts this program again per run so each has its own RSS.
        "embedded-run" => Embedded.RunOneAsync(args),
        _ => throw new ArgumentException($"Unknown scenario '{options.Scenario}'. Scenarios: {string.Join(", ", Program.Scenarios)}."),
    });
}

Console.WriteLine();
foreach (var line in Compare.Results)
{
    Console.WriteLine(line);
}

internal static partial class Program
{
    public static readonly string[] Scenarios = ["pubsub", "queue-group", "request-reply", "durable-publish", "durable-consume", "save-drain", "e2e", "all-in-one", "rabbitmq-peer", "embedded", "telemetry"];
}
