using System.CommandLine;
using System.Text;
using ToDoList.Messaging;
using ToDoList.Messaging.Hosting;

namespace ToDoList.Cli;

/// <summary>
/// <c>todo mq pub|sub|req|reply|deadletters</c>: the seed's <c>redis-cli</c> and <c>nats-sub</c> over any transport.
/// Data crosses raw, unchanged, so the brokers' own tools see exactly what was sent.
/// </summary>
public static class MqCommands
{
    public const int NoResponders = 3;
    public const int TimedOut = 4;

    private static readonly Option<string?> UrlOption = new("--url")
    {
        Description = "The message queue, e.g. nats://localhost:4222 (default: the MessageQueue:Url setting).",
        Recursive = true,
    };

    public static Command Create()
    {
        var mq = new Command("mq", "Publish, subscribe, request and reply on the message queue, like redis-cli and nats-sub.");
        mq.Options.Add(UrlOption);
        mq.Subcommands.Add(Pub());
        mq.Subcommands.Add(Sub());
        mq.Subcommands.Add(Req());
        mq.Subcommands.Add(Reply());
        mq.Subcommands.Add(DeadLetterCommands.Create());
        return mq;
    }

    private static Command Pub()
    {
        var subject = new Argument<string>("subject") { Description = "Where to publish, e.g. channel21 or events.todo.newitem." };
        var data = new Argument<string>("data") { Description = "The payload, sent as it is." };
        var repeat = new Option<int>("--repeat", "-r") { Description = "How many times to publish.", DefaultValueFactory = _ => 1 };
        var interval = new Option<double>("--interval", "-i") { Description = "Seconds between publishes.", DefaultValueFactory = _ => 0 };
        var command = new Command("pub", "Publish DATA on SUBJECT, e.g. `todo mq pub channel21 ping -r 50 -i 5`.") { subject, data, repeat, interval };
        command.SetAction((result, ct) => WithBusAsync(result, async bus =>
        {
            var name = result.GetValue(subject)!;
            var payload = Encoding.UTF8.GetBytes(result.GetValue(data)!);
            var times = result.GetValue(repeat);
            var pause = TimeSpan.FromSeconds(Math.Max(0, result.GetValue(interval)));
            for (var i = 1; i <= times; i++)
            {
                await bus.PublishAsync(new Message(name, payload), ct);
                Console.WriteLine($"Published [{i}] {name}: '{result.GetValue(data)}'");
                if (i < times && pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause, ct);
                }
            }

            return 0;
        }));
        return command;
    }

    private static Command Sub()
    {
        var subject = new Argument<string>("subject") { Description = "What to listen to; wildcards * (one token) and > (the rest)." };
        var queue = new Option<string?>("--queue", "-q") { Description = "Join a queue group: each message goes to one member." };
        var durable = new Option<string?>("--durable") { Description = "A durable group of this name: messages wait for it while it is away." };
        var count = new Option<int?>("--count", "-n") { Description = "Exit after this many messages." };
        var command = new Command("sub", "Print one line per message on SUBJECT, e.g. `todo mq sub events.todo.newitem`.") { subject, queue, durable, count };
        command.SetAction((result, ct) => WithBusAsync(result, async bus =>
        {
            var group = result.GetValue(durable) ?? result.GetValue(queue);
            if (result.GetValue(durable) is { } d && result.GetValue(queue) is { } q && d != q)
            {
                throw new ArgumentException("--durable names the group: give --queue the same name, or leave it out.");
            }

            var limit = result.GetValue(count);
            var received = 0;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var options = new SubscribeOptions { QueueGroup = group, Durable = result.GetValue(durable) is not null };
            await using var subscription = await bus.SubscribeAsync(result.GetValue(subject)!, (context, _) =>
            {
                var n = Interlocked.Increment(ref received);
                Console.WriteLine($"[#{n}] {context.Message.Subject}: {Encoding.UTF8.GetString(context.Message.Data.Span)}");
                if (n == limit)
                {
                    done.TrySetResult();
                }

                return ValueTask.CompletedTask;
            }, options, ct);
            Console.Error.WriteLine($"Listening on {result.GetValue(subject)}{(group is null ? "" : $" (group {group})")}; Ctrl+C to stop.");
            await done.Task.WaitAsync(ct).ContinueWith(_ => { }, TaskScheduler.Default);
            return 0;
        }));
        return command;
    }

    private static Command Req()
    {
        var subject = new Argument<string>("subject");
        var data = new Argument<string>("data");
        var timeout = new Option<double>("--timeout", "-t") { Description = "Seconds to wait for the reply.", DefaultValueFactory = _ => 5 };
        var command = new Command("req", "Send DATA as a request on SUBJECT and print the first reply.") { subject, data, timeout };
        command.SetAction((result, ct) => WithBusAsync(result, async bus =>
        {
            var request = new Message(result.GetValue(subject)!, Encoding.UTF8.GetBytes(result.GetValue(data)!));
            try
            {
                var reply = await bus.RequestAsync(request, TimeSpan.FromSeconds(result.GetValue(timeout)), ct);
                Console.WriteLine(Encoding.UTF8.GetString(reply.Data.Span));
                return 0;
            }
            catch (NoRespondersException e)
            {
                Console.Error.WriteLine(e.Message);
                return NoResponders;
            }
            catch (RequestTimeoutException e)
            {
                Console.Error.WriteLine(e.Message);
                return TimedOut;
            }
        }));
        return command;
    }

    private static Command Reply()
    {
        var subject = new Argument<string>("subject");
        var data = new Argument<string>("data");
        var queue = new Option<string?>("--queue", "-q") { Description = "Join a queue group of responders." };
        var command = new Command("reply", "Answer every request on SUBJECT with DATA.") { subject, data, queue };
        command.SetAction((result, ct) => WithBusAsync(result, async bus =>
        {
            var answer = Encoding.UTF8.GetBytes(result.GetValue(data)!);
            await using var subscription = await bus.SubscribeAsync(result.GetValue(subject)!, async (context, token) =>
            {
                Console.WriteLine($"Request on {context.Message.Subject}: {Encoding.UTF8.GetString(context.Message.Data.Span)}");
                await context.ReplyRawAsync(answer, cancellationToken: token);
            }, new SubscribeOptions { QueueGroup = result.GetValue(queue) }, ct);
            Console.Error.WriteLine($"Answering on {result.GetValue(subject)}; Ctrl+C to stop.");
            await Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => { }, TaskScheduler.Default);
            return 0;
        }));
        return command;
    }

    internal static async Task<int> WithBusAsync(ParseResult result, Func<MessageBus, Task<int>> action)
    {
        var settings = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        var url = result.GetValue(UrlOption) ?? settings["MessageQueue:Url"];
        if (string.IsNullOrWhiteSpace(url))
        {
            await Console.Error.WriteLineAsync("todo mq needs a message queue: give --url (e.g. nats://localhost:4222) or set MessageQueue__Url.");
            return 2;
        }

        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning))
            .AddMessaging(_ => new MessagingOptions { Url = url, Source = "/todo-mq" });
        Hosting.TodoApp.AddTransports(services);
        await using var provider = services.BuildServiceProvider();
        try
        {
            var bus = provider.GetRequiredService<MessageBus>();
            await bus.ConnectAsync();
            return await action(bus);
        }
        catch (Exception e) when (e is MessagingException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"todo mq: {e.Message}");
            return 2;
        }
    }
}
