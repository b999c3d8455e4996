using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using ToDoList.Messaging.RabbitMq;
using ToDoList.Messaging.Tests.Conformance;
using ToDoList.Messaging.Tests.Servers;

namespace ToDoList.Messaging.Tests.RabbitMq;

/// <summary>What only RabbitMQ has: its own command-line clients, AMQP headers, credentials in the URL, a broker that restarts.</summary>
public sealed class RabbitMqTransportTests
{
    private static readonly RetryPolicy FastRetry = new()
    {
        MaxDeliver = 3,
        InitialDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(50),
    };

    private readonly string _prefix = "r" + Nuid.Next();

    // ---- interop with the broker's own clients -----------------------------------------------

    [Fact]
    public async Task Raw_body_from_amqp_publish_arrives_unchanged_with_no_headers()
    {
        var server = await RabbitMqServer.GetSharedAsync();
        await using var bus = await ConnectAsync(server.Url);
        var subject = Subject("events.todo.newitem");
        var recorder = new Recorder();
        await bus.SubscribeAsync(subject, recorder.Handler);
        const string body = "{\"item\":\"from amqp-publish ü\"}";

        await RunAsync("amqp-publish", $"--url={server.ToolUrl}", "-e", "todo", "-r", subject, "-b", body);

        var received = (await recorder.WaitForCountAsync(1))[0];
        Assert.Equal(Encoding.UTF8.GetBytes(body), received.Message.Data.ToArray());
        Assert.False(received.Message.HasHeaders);
    }

    [Fact]
    public async Task CloudEvents_headers_from_amqp_publish_are_the_library_s_ce_headers()
    {
        var server = await RabbitMqServer.GetSharedAsync();
        await using var bus = await ConnectAsync(server.Url);
        var subject = Subject("events.todo.newitem");
        var recorder = new Recorder();
        await bus.SubscribeAsync(subject, recorder.Handler);

        await RunAsync("amqp-publish", $"--url={server.ToolUrl}", "-e", "todo", "-r", subject, "-C", "application/json",
            "-H", "cloudEvents_id: id-1", "-H", "cloudEvents_type: todo.newitem", "-H", "cloudEvents_specversion: 1.0", "-b", "{}");

        var message = (await recorder.WaitForCountAsync(1))[0].Message;
        Assert.Equal("id-1", message.Id);
        Assert.Equal("todo.newitem", message.Type);
        Assert.Equal("1.0", message.Headers[CloudEventHeaders.SpecVersion]);
        Assert.Equal("application/json", message.Headers[CloudEventHeaders.DataContentType]);
    }

    [Fact]
    public async Task Raw_publish_reaches_amqp_consume_with_its_body_unchanged()
    {
        var server = await RabbitMqServer.GetSharedAsync();
        await using var bus = await ConnectAsync(server.Url);
        var subject = Subject("events.todo.newitem");
        var group = Group("cli");
        // A queue that exists before the publish, so amqp-consume needs no time to bind one.
        await bus.DeclareDurableGroupAsync(subject, group);
        var body = "raw bytes \u00e9\n{\"item\":\"x\"}";

        await bus.PublishAsync(new Message(subject, Encoding.UTF8.GetBytes(body)));

        var output = await RunAsync("amqp-consume", $"--url={server.ToolUrl}", "-q", group, "-c", "1", "cat");
        Assert.Equal(body, output);
    }

    [Fact]
    public async Task Published_headers_are_AMQP_CloudEvents_binding_names_and_content_type()
    {
        var server = await RabbitMqServer.GetSharedAsync();
        await using var bus = await ConnectAsync(server.Url);
        var subject = Subject("events.todo.newitem");
        var group = Group("inspect");
        await bus.DeclareDurableGroupAsync(subject, group);

        var id = await bus.PublishAsync(subject, new Note("hello"));

        var factory = new ConnectionFactory { Uri = new Uri(server.Url) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var got = await channel.BasicGetAsync(group, autoAck: true);
        Assert.NotNull(got);
        var headers = got.BasicProperties.Headers!;
        Assert.Equal(id, Encoding.UTF8.GetString((byte[])headers["cloudEvents_id"]!));
        Assert.True(headers.ContainsKey("cloudEvents_type"));
        Assert.DoesNotContain(headers.Keys, k => k.StartsWith("ce-", StringComparison.Ordinal));
        Assert.Equal("application/json", got.BasicProperties.ContentType);
        Assert.Equal(DeliveryModes.Persistent, got.BasicProperties.DeliveryMode);
    }

    // ---- durable groups ----------------------------------------------------------------------

    [Fact]
    public async Task Message_held_by_a_consumer_closed_without_ack_goes_to_another_member()
    {
        var server = await RabbitMqServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        var options = new SubscribeOptions { QueueGroup = Group("savers"), Durable = true, Retry = FastRetry };
        await using var publisher = await ConnectAsync(server.Url);
        await using var first = await ConnectAsync(server.Url);
        await using var second = await ConnectAsync(server.Url);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = new Recorder(async (_, ct) => await release.Task.WaitAsync(ct));
        var held = await first.SubscribeAsync(subject, holder.Handler, options);
        var id = await publisher.PublishAsync(subject, new Note("hold me"));
        await holder.WaitForCountAsync(1);
        var other = new Recorder();
        await second.SubscribeAsync(subject, other.Handler, options);

        // The consumer closes (its channel) while its handler still holds the message: no ack was sent.
        await held.DisposeAsync();

        var redelivered = (await other.WaitForCountAsync(1))[0];
        Assert.Equal(id, redelivered.EventId);
        Assert.Equal(2, redelivered.Attempt);
        release.TrySetResult();
    }

    [Fact]
    public async Task Retry_with_a_delay_goes_through_a_delay_queue_and_counts_the_tries()
    {
        var server = await RabbitMqServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        var retry = new RetryPolicy { MaxDeliver = 3, InitialDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromMilliseconds(200) };
        await using var bus = await ConnectAsync(server.Url);
        var started = Stopwatch.StartNew();
        var recorder = new Recorder((context, _) => context.Attempt < 3 ? throw new InvalidOperationException("not yet") : ValueTask.CompletedTask);
        await bus.SubscribeAsync(subject, recorder.Handler, new SubscribeOptions { QueueGroup = Group("savers"), Durable = true, Retry = retry });

        await bus.PublishAsync(subject, new Note("later"));

        var tries = await recorder.WaitForCountAsync(3);
        Assert.Equal([1, 2, 3], tries.Select(t => t.Attempt));
        Assert.All(tries, t => Assert.Equal(subject, t.Message.Subject));
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(300), $"two delayed retries took {started.Elapsed}");
    }

    [Fact]
    public async Task Member_whose_queue_was_deleted_makes_it_again_and_goes_on()
    {
        var server = await RabbitMqServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        var group = Group("savers");
        var logs = new LogRecorder();
        await using var bus = await ConnectAsync(server.Url, logs);
        var recorder = new Recorder();
        await bus.SubscribeAsync(subject, recorder.Handler, Durable(group));
        await PublishTextAsync(bus, subject, "before");
        await recorder.WaitForTextAsync("before");

        // An operator deletes the queue (rabbitmqctl delete_queue): the broker cancels the member's consumer.
        var factory = new ConnectionFactory { Uri = new Uri(server.Url) };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeleteAsync(group);
        }

        await Wait.For(logs.When(e => e.Message.Contains("again", StringComparison.Ordinal) && e.Message.Contains("Consuming", StringComparison.Ordinal)), "the member to consume its queue again");
        await PublishTextAsync(bus, subject, "after");
        await recorder.WaitForTextAsync("after");
    }

    // ---- credentials -------------------------------------------------------------------------

    [Fact]
    public async Task Wrong_password_fails_with_a_clear_error_that_never_shows_the_password()
    {
        var server = await RabbitMqServer.GetSharedAsync();
        const string password = "Wr0ng-S3cret-pw";
        var url = $"amqp://guest:{password}@127.0.0.1:{server.Port}/";
        var logs = new LogRecorder();
        await using var transport = new RabbitMqTransport(TransportUrl.Parse(url), loggerFactory: logs);

        var error = await Assert.ThrowsAsync<TransportException>(() => transport.ConnectAsync(CancellationToken.None).AsTask());

        Assert.Contains("ACCESS_REFUSED", error.Message);
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message);
        Assert.Contains("'guest'", error.Message);
        Assert.DoesNotContain(password, error.ToString());
        Assert.DoesNotContain(logs.Entries, e => e.ToString().Contains(password, StringComparison.Ordinal));
    }

    // ---- a broker restart --------------------------------------------------------------------

    [Fact]
    public async Task Subscriptions_and_kept_messages_come_back_after_a_broker_restart()
    {
        await using var server = await RabbitMqServer.StartAsync();
        var logs = new LogRecorder();
        await using var publisher = await ConnectAsync(server.Url, logs);
        await using var consumer = await ConnectAsync(server.Url, logs);
        var plain = new Recorder();
        var durable = new Recorder();
        var kept = new Recorder();
        await consumer.SubscribeAsync(Subject("core"), plain.Handler);
        await consumer.SubscribeAsync(Subject("events.saved"), durable.Handler, Durable(Group("savers")));
        await publisher.DeclareDurableGroupAsync(Subject("events.kept"), Group("keepers"));
        await PublishTextAsync(publisher, Subject("events.kept"), "kept across the restart");
        await PublishTextAsync(publisher, Subject("events.saved"), "durable before");
        await durable.WaitForTextAsync("durable before");

        await server.StopAsync();
        await server.StartAgainAsync();

        // Both connections of both processes recover by themselves, with their queues and consumers.
        await Wait.For(logs.WhenCount(e => e.Message.Contains("recovered", StringComparison.Ordinal), 4), "four connections to recover");
        await PublishTextAsync(publisher, Subject("events.saved"), "durable after");
        await durable.WaitForTextAsync("durable after");
        await publisher.PublishAsync(new Message(Subject("core"), Encoding.UTF8.GetBytes("plain after")));
        await plain.WaitForTextAsync("plain after");

        await consumer.SubscribeAsync(Subject("events.kept"), kept.Handler, Durable(Group("keepers")));
        await kept.WaitForTextAsync("kept across the restart");
    }

    private string Subject(string name) => $"{_prefix}.{name}";

    private string Group(string name) => $"{_prefix}-{name}";

    private static SubscribeOptions Durable(string group) => new() { QueueGroup = group, Durable = true, Retry = FastRetry };

    private static Task PublishTextAsync(MessageBus bus, string subject, string text) =>
        bus.PublishAsync(new Message(subject, Encoding.UTF8.GetBytes(text))).AsTask();

    private static async Task<MessageBus> ConnectAsync(string url, ILoggerFactory? logs = null)
    {
        var options = new MessagingOptions { Retry = FastRetry };
        var bus = new MessageBus(new RabbitMqTransport(TransportUrl.Parse(url), loggerFactory: logs), options);
        await bus.ConnectAsync();
        return bus;
    }

    /// <summary>Runs one of the broker's command-line clients to its end and returns what it wrote.</summary>
    private static async Task<string> RunAsync(string tool, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException($"{tool} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Wait.Deadline);
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw new TimeoutException($"{tool} did not end within {Wait.Deadline}: {await errors}");
        }

        Assert.True(process.ExitCode == 0, $"{tool} exited with {process.ExitCode}: {await errors}");
        return await output;
    }
}
