using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ToDoList.Messaging.Hosting;
using ToDoList.Messaging.Tests.Conformance;

namespace ToDoList.Messaging.Tests;

public sealed class HostingTests
{
    [Fact]
    public async Task Host_runs_a_registered_handler_between_start_and_stop()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<Recorder>();
        builder.Services.AddMessaging(_ => new MessagingOptions()).AddMessageHandler<NoteHandler, Note>("notes.added");
        using var host = builder.Build();
        await host.StartAsync();
        var bus = host.Services.GetRequiredService<MessageBus>();

        var id = await bus.PublishAsync("notes.added", new Note("milk"));

        var handled = (await host.Services.GetRequiredService<Recorder>().WaitForCountAsync(1))[0];
        Assert.Equal(id, handled.EventId);
        Assert.Equal("milk", ((MessageContext<Note>)handled).Data.Text);
        await host.StopAsync();
    }

    [Fact]
    public async Task Host_declares_its_durable_groups_at_start_so_they_keep_messages_before_any_member_runs()
    {
        var logs = new LogRecorder();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton<Recorder>();
        builder.Services.AddMessaging(_ => new MessagingOptions())
            .AddDurableGroup("notes.added", "keepers")
            .AddMessageHandler<NoteHandler, Note>("notes.done", new SubscribeOptions { QueueGroup = "finishers", Durable = true });
        using var host = builder.Build();
        await host.StartAsync();
        var bus = host.Services.GetRequiredService<MessageBus>();

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await bus.PublishAsync("notes.added", new Note($"milk {i}")));
        }

        var first = new Recorder();
        await bus.SubscribeAsync("notes.added", first.Handler, new SubscribeOptions { QueueGroup = "keepers", Durable = true });
        Assert.Equal(ids, (await first.WaitForCountAsync(3)).Select(c => c.EventId));

        // A durable handler's own group is declared the same way, by the same service.
        Assert.Contains(logs.Entries, e => e.Message == "Durable group finishers on notes.done declared");
        await host.StopAsync();
    }

    [Fact]
    public async Task Host_whose_group_is_declared_on_two_subjects_fails_at_start()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddMessaging(_ => new MessagingOptions())
            .AddDurableGroup("notes.added", "keepers")
            .AddDurableGroup("notes.done", "keepers");
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<TransportException>(() => host.StartAsync());

        Assert.Contains("keepers", error.Message);
    }

    [Fact]
    public void Unknown_url_scheme_is_named_without_its_password()
    {
        using var services = new ServiceCollection()
            .AddLogging()
            .AddMessaging(_ => new MessagingOptions { Url = "nats://user:secret@nats:4222" })
            .BuildServiceProvider();

        var error = Assert.Throws<TransportException>(() => services.GetRequiredService<MessageBus>());

        Assert.Contains("nats://user:***@nats:4222", error.Message);
        Assert.Contains("memory://", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public async Task Instance_answers_a_scatter_gather_with_who_it_is()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddMessaging(_ => new MessagingOptions()).AddInstanceInfo("api", typeof(HostingTests).Assembly);
        using var host = builder.Build();
        await host.StartAsync();
        var bus = host.Services.GetRequiredService<MessageBus>();

        // The reply on the wire is the InstanceInfo JSON itself.
        var replies = await bus.GatherAsync(new Message(InstanceInfo.Subject, ReadOnlyMemory<byte>.Empty), new GatherOptions { Window = Wait.Deadline, MaxReplies = 1 });
        var reply = JsonSerializer.Deserialize(Assert.Single(replies).Data.Span, InstanceInfoJson.Default.InstanceInfo)!;
        Assert.Equal("api", reply.Role);

        var instance = Assert.Single(await InstanceInfo.GatherAsync(bus, TimeSpan.FromSeconds(1)));
        Assert.Equal("api", instance.Role);
        Assert.Equal("memory", instance.Transport);
        Assert.Equal(Environment.ProcessId, instance.ProcessId);
        await host.StopAsync();
    }

    private sealed class NoteHandler(Recorder recorder) : IMessageHandler<Note>
    {
        public ValueTask HandleAsync(MessageContext<Note> context, CancellationToken cancellationToken) =>
            recorder.Handler(context, cancellationToken);
    }
}
