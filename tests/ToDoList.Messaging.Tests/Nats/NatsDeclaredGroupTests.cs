using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NATS.Client.Core;
using NATS.Client.JetStream;
using ToDoList.Messaging.Hosting;
using ToDoList.Messaging.Nats;
using ToDoList.Messaging.Tests.Conformance;
using ToDoList.TestSupport;

namespace ToDoList.Messaging.Tests.Nats;

/// <summary>
/// A first deployment on NATS: a group's consumer starts at its creation, so every process declares the durable
/// groups before anything is published, and nothing posted before a handler first ran is lost.
/// </summary>
public sealed class NatsDeclaredGroupTests
{
    private readonly string _prefix = "d" + Nuid.Next();

    [Fact]
    public async Task Groups_one_process_declared_keep_what_a_second_publishes_until_a_third_starts()
    {
        // A server of its own: no stream, no consumer, as on the first day of a deployment.
        await using var server = await NatsServer.StartAsync();
        var newItem = Subject("events.todo.newitem");
        var complete = Subject("commands.todo.complete");
        var groups = new[] { (newItem, Group("save-handler")), (newItem, Group("audit-handler")), (complete, Group("complete-item")) };
        await using var publisher = await ConnectAsync(server.Url);

        await using (var web = await ConnectAsync(server.Url))
        {
            foreach (var (subject, group) in groups)
            {
                await web.DeclareDurableGroupAsync(subject, group);
            }
        }

        var items = Enumerable.Range(0, 20).Select(i => $"item {i}").ToList();
        foreach (var text in items)
        {
            await PublishTextAsync(publisher, newItem, text);
        }

        await PublishTextAsync(publisher, complete, "complete 7");

        await using var handlers = await ConnectAsync(server.Url);
        var recorders = new List<(string Group, Recorder Recorder, IReadOnlyList<string> Expected)>();
        foreach (var (subject, group) in groups)
        {
            var recorder = new Recorder();
            await handlers.SubscribeAsync(subject, recorder.Handler, Durable(group));
            recorders.Add((group, recorder, subject == newItem ? items : ["complete 7"]));
        }

        foreach (var (group, recorder, expected) in recorders)
        {
            await recorder.WaitForCountAsync(expected.Count);
            Assert.True(expected.SequenceEqual(recorder.Texts), $"{group} got {string.Join(", ", recorder.Texts)}");
            Assert.All(recorder.Received, c => Assert.Equal(1, c.Attempt));
        }
    }

    [Fact]
    public async Task Host_that_only_publishes_declares_its_groups_at_start_for_handlers_that_start_later()
    {
        await using var server = await NatsServer.StartAsync();
        var subject = Subject("events.todo.newitem");
        var group = Group("save-handler");
        var sent = Enumerable.Range(0, 10).Select(i => $"item {i}").ToList();

        using (var api = BuildHost(server.Url, services => services.AddDurableGroup(subject, group)))
        {
            await api.StartAsync();
            var bus = api.Services.GetRequiredService<MessageBus>();
            foreach (var text in sent)
            {
                await bus.PublishAsync(subject, new Note(text));
            }

            await api.StopAsync();
        }

        var recorder = new Recorder();
        using var saveHandler = BuildHost(server.Url, services => services
            .AddSingleton(recorder)
            .AddMessageHandler<RecordingHandler, Note>(subject, Durable(group)));
        await saveHandler.StartAsync();

        var handled = await recorder.WaitForCountAsync(sent.Count);
        Assert.Equal(sent, handled.Select(c => ((MessageContext<Note>)c).Data.Text));
        await saveHandler.StopAsync();
    }

    [Fact]
    public async Task Declaring_an_existing_group_leaves_its_members_ack_wait_as_it_is()
    {
        var server = await NatsServer.GetSharedAsync();
        var subject = Subject("events.todo.newitem");
        var group = Group("save-handler");
        await using var handler = await ConnectAsync(server.Url);
        await using var web = await ConnectAsync(server.Url);
        var ackWait = TimeSpan.FromMinutes(2);
        await handler.SubscribeAsync(subject, new Recorder().Handler, Durable(group) with { AckWait = ackWait });

        // A publisher restarting declares with the default ack wait: the running members' own must stay.
        await web.DeclareDurableGroupAsync(subject, group);

        await using var raw = new NatsConnection(new NatsOpts { Url = server.Url });
        var consumer = await new NatsJSContext(raw).GetConsumerAsync(JetStreamNames.StreamFor(subject), JetStreamNames.ConsumerFor(group));
        Assert.Equal(ackWait, consumer.Info.Config.AckWait);
        Assert.Equal(subject, consumer.Info.Config.FilterSubject);
    }

    [Fact]
    public async Task Declaring_a_group_on_a_server_without_JetStream_fails_clearly()
    {
        await using var server = await NatsServer.StartAsync(jetStream: false);
        await using var bus = await ConnectAsync(server.Url);

        var error = await Assert.ThrowsAsync<TransportException>(() => bus.DeclareDurableGroupAsync(Subject("events.todo.newitem"), Group("save-handler")).AsTask());

        Assert.Contains("JetStream", error.Message);
    }

    private string Subject(string name) => $"{_prefix}.{name}";

    private string Group(string name) => $"{_prefix}-{name}";

    private static SubscribeOptions Durable(string group) => new() { QueueGroup = group, Durable = true };

    private static async Task<MessageBus> ConnectAsync(string url)
    {
        var bus = new MessageBus(new NatsTransport(TransportUrl.Parse(url)));
        await bus.ConnectAsync();
        return bus;
    }

    private static IHost BuildHost(string url, Action<IServiceCollection> configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddMessaging(_ => new MessagingOptions { Url = url }).AddNatsTransport();
        configure(builder.Services);
        return builder.Build();
    }

    private static Task PublishTextAsync(MessageBus bus, string subject, string text) =>
        bus.PublishAsync(new Message(subject, Encoding.UTF8.GetBytes(text))).AsTask();

    private sealed class RecordingHandler(Recorder recorder) : IMessageHandler<Note>
    {
        public ValueTask HandleAsync(MessageContext<Note> context, CancellationToken cancellationToken) =>
            recorder.Handler(context, cancellationToken);
    }
}
