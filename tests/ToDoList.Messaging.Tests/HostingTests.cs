using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
