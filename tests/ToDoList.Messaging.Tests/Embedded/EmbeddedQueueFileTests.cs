using System.Text;
using ToDoList.Messaging.Embedded;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Tests.Embedded;

/// <summary>
/// <c>embedded://</c> with its queue file: what a restart finds. Disposing a transport and opening a new one on
/// the same file is a restart; copying the file while the transport runs is what a killed process leaves behind.
/// </summary>
public sealed class EmbeddedQueueFileTests : IDisposable
{
    private static readonly TimeSpan AckWait = TimeSpan.FromMinutes(1);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("todo-queue-file-");

    private string QueueFile => Path.Combine(_directory.FullName, "queue.db");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task Unacknowledged_messages_come_again_after_a_restart_with_their_attempt_count_going_on()
    {
        await using (var first = await OpenAsync())
        {
            var member = await JoinAsync(first);
            await PublishAsync(first, "acked", "held", "never delivered");
            var acked = await NextAsync(member);
            await acked.Acknowledgement!.AckAsync();
            var held = await NextAsync(member);
            Assert.Equal(("acked", 1), (Text(acked), acked.Attempt));
            Assert.Equal(("held", 1), (Text(held), held.Attempt));
        }

        await using (var second = await OpenAsync())
        {
            var member = await JoinAsync(second);
            var held = await NextAsync(member);
            var neverDelivered = await NextAsync(member);
            Assert.Equal(("held", 2), (Text(held), held.Attempt));
            Assert.Equal(("never delivered", 1), (Text(neverDelivered), neverDelivered.Attempt));
        }

        // Held through two runs now, acknowledged in neither: the count keeps going, so a message that kills its handler's process does not loop for ever.
        await using var third = await OpenAsync();
        var again = await NextAsync(await JoinAsync(third));
        Assert.Equal(("held", 3), (Text(again), again.Attempt));
    }

    [Fact]
    public async Task Acknowledged_messages_never_come_back()
    {
        await using (var first = await OpenAsync())
        {
            var member = await JoinAsync(first);
            await PublishAsync(first, [.. Enumerable.Range(0, 100).Select(i => $"item {i}")]);
            for (var i = 0; i < 100; i++)
            {
                await (await NextAsync(member)).Acknowledgement!.AckAsync();
            }
        }

        await using var second = await OpenAsync();
        var restarted = await JoinAsync(second);
        await PublishAsync(second, "marker");

        // The group delivers in order: anything kept from before would come first.
        Assert.Equal("marker", Text(await NextAsync(restarted)));
    }

    [Fact]
    public async Task Message_nakked_before_a_restart_comes_again_with_its_attempt_count()
    {
        await using (var first = await OpenAsync())
        {
            var member = await JoinAsync(first);
            await PublishAsync(first, "flaky");
            var delivery = await NextAsync(member);
            await delivery.Acknowledgement!.NakAsync(TimeSpan.FromHours(1));
        }

        // The delay is not kept: the restarted group delivers it at once.
        await using var second = await OpenAsync();
        var again = await NextAsync(await JoinAsync(second));
        Assert.Equal(("flaky", 2), (Text(again), again.Attempt));
    }

    [Fact]
    public async Task Publish_returns_once_the_message_is_in_the_file()
    {
        await using var running = await OpenAsync();
        await running.DeclareDurableGroupAsync(new DurableGroupRequest("jobs", "workers", AckWait), CancellationToken.None);
        // Many at once: were a publish to return before its commit, the last ones would still be on their way to the file now.
        await Task.WhenAll(Enumerable.Range(0, 5000).Select(i => running.PublishAsync(new Message("jobs", Encoding.UTF8.GetBytes($"job {i}")), CancellationToken.None).AsTask()));

        // What a process killed right now leaves on disk: the file and its write-ahead log, as they are.
        var crashed = Directory.CreateDirectory(Path.Combine(_directory.FullName, "crashed"));
        foreach (var file in _directory.EnumerateFiles("queue.db*"))
        {
            file.CopyTo(Path.Combine(crashed.FullName, file.Name));
        }

        await using var restarted = await OpenAsync(Path.Combine(crashed.FullName, "queue.db"));
        var member = await JoinAsync(restarted);
        var kept = new List<string>();
        while (member.Deliveries.TryRead(out var delivery))
        {
            kept.Add(Text(delivery));
        }

        Assert.Equal(Enumerable.Range(0, 5000).Select(i => $"job {i}").Order(), kept.Order());
    }

    [Fact]
    public async Task Declared_group_collects_after_a_restart_before_its_first_member()
    {
        await using (var first = await OpenAsync())
        {
            await first.DeclareDurableGroupAsync(new DurableGroupRequest("jobs", "workers", AckWait), CancellationToken.None);
        }

        await using var second = await OpenAsync();
        await PublishAsync(second, "job 1", "job 2");

        var member = await JoinAsync(second);
        Assert.Equal(["job 1", "job 2"], [Text(await NextAsync(member)), Text(await NextAsync(member))]);
        var error = await Assert.ThrowsAsync<TransportException>(() => second.DeclareDurableGroupAsync(new DurableGroupRequest("other", "workers", AckWait), CancellationToken.None).AsTask());
        Assert.Contains("'jobs'", error.Message);
    }

    [Fact]
    public async Task Second_transport_on_the_same_file_is_refused_with_one_clear_line()
    {
        await using (var running = await OpenAsync())
        {
            await using var second = new EmbeddedTransport("embedded", new EmbeddedOptions { FilePath = QueueFile });

            var error = await Assert.ThrowsAsync<TransportException>(() => second.ConnectAsync(CancellationToken.None).AsTask());

            Assert.Contains(QueueFile, error.Message);
            Assert.Contains("in use by another process", error.Message);
            Assert.DoesNotContain('\n', error.Message);
        }

        // Released with the first: the file opens again.
        await using var afterwards = await OpenAsync();
        Assert.True(afterwards.IsConnected);
    }

    [Fact]
    public async Task File_that_is_not_a_queue_file_is_refused_with_one_clear_line()
    {
        await File.WriteAllTextAsync(QueueFile, new string('x', 4096));
        await using var transport = new EmbeddedTransport("embedded", new EmbeddedOptions { FilePath = QueueFile });

        var error = await Assert.ThrowsAsync<TransportException>(() => transport.ConnectAsync(CancellationToken.None).AsTask());

        Assert.Contains(QueueFile, error.Message);
        Assert.Contains("not a SQLite file", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task Durable_group_restored_at_MaxMessagesPerGroup_still_refuses_a_publish()
    {
        var options = new EmbeddedOptions { FilePath = QueueFile, MaxMessagesPerGroup = 3 };
        await using (var first = await OpenAsync(options: options))
        {
            await first.DeclareDurableGroupAsync(new DurableGroupRequest("jobs", "workers", AckWait), CancellationToken.None);
            await PublishAsync(first, "job 0", "job 1", "job 2");
        }

        await using var second = await OpenAsync(options: options);
        var error = await Assert.ThrowsAsync<QueueFullException>(() => PublishAsync(second, "job 3"));

        Assert.Contains("workers", error.Message);
        var member = await JoinAsync(second);
        var first3 = new[] { await NextAsync(member), await NextAsync(member), await NextAsync(member) };
        Assert.Equal(["job 0", "job 1", "job 2"], first3.Select(Text));

        // Acknowledged ones make room again.
        await first3[0].Acknowledgement!.AckAsync();
        await PublishAsync(second, "job 3");
        Assert.Equal("job 3", Text(await NextAsync(member)));
    }

    [Fact]
    public async Task Headers_and_reply_subject_survive_a_restart()
    {
        var headers = new MessageHeaders { [CloudEventHeaders.Id] = "evt-1", ["x-tenant"] = "ächme ✓", ["x-empty"] = "" };
        var data = new byte[70_000];
        new Random(3).NextBytes(data);
        await using (var first = await OpenAsync())
        {
            await first.DeclareDurableGroupAsync(new DurableGroupRequest("jobs", "workers", AckWait), CancellationToken.None);
            await first.PublishAsync(new Message("jobs", data, headers, replyTo: "replies.1"), CancellationToken.None);
            await first.PublishAsync(new Message("jobs", ReadOnlyMemory<byte>.Empty), CancellationToken.None);
        }

        await using var second = await OpenAsync();
        var member = await JoinAsync(second);
        var kept = (await NextAsync(member)).Message;
        var empty = (await NextAsync(member)).Message;

        Assert.Equal(headers.OrderBy(h => h.Key), kept.Headers.OrderBy(h => h.Key));
        Assert.Equal("replies.1", kept.ReplyTo);
        Assert.True(kept.Data.Span.SequenceEqual(data), "the payload changed in the file");
        Assert.False(empty.HasHeaders);
        Assert.True(empty.Data.IsEmpty);
        Assert.Null(empty.ReplyTo);
    }

    [Theory]
    [InlineData("embedded:///var/lib/todo/queue.db", null, "/var/lib/todo/queue.db")]
    [InlineData("embedded:///var/lib/my%20todo/queue.db", "/elsewhere/q.db", "/var/lib/my todo/queue.db")]
    [InlineData("embedded://", "/srv/todo/todo.queue.db", "/srv/todo/todo.queue.db")]
    [InlineData("embedded:///", "/srv/todo/todo.queue.db", "/srv/todo/todo.queue.db")]
    public void Queue_file_is_the_one_the_url_names_else_the_configured_one(string url, string? configured, string expected)
    {
        var options = EmbeddedOptions.ForUrl(TransportUrl.Parse(url), configured is null ? null : new EmbeddedOptions { FilePath = configured });

        Assert.Equal(expected, options.FilePath);
    }

    [Fact]
    public void Queue_file_with_nothing_configured_is_in_the_working_folder()
    {
        var options = EmbeddedOptions.ForUrl(TransportUrl.Parse("embedded://"));

        Assert.Equal(Path.GetFullPath(EmbeddedOptions.DefaultFileName), options.FilePath);
    }

    [Fact]
    public void Url_with_a_host_is_refused_with_the_form_it_takes()
    {
        var error = Assert.Throws<TransportException>(() => EmbeddedOptions.ForUrl(TransportUrl.Parse("embedded://queue.db")));

        Assert.Contains("embedded:///", error.Message);
    }

    private async Task<EmbeddedTransport> OpenAsync(string? path = null, EmbeddedOptions? options = null)
    {
        var transport = new EmbeddedTransport("embedded", options ?? new EmbeddedOptions { FilePath = path ?? QueueFile });
        await transport.ConnectAsync(CancellationToken.None);
        return transport;
    }

    private static async Task<ITransportSubscription> JoinAsync(EmbeddedTransport transport) =>
        await transport.SubscribeAsync(new SubscriptionRequest("jobs", "workers", Durable: true, Capacity: 1024, AckWait), CancellationToken.None);

    private static async Task PublishAsync(EmbeddedTransport transport, params string[] texts)
    {
        foreach (var text in texts)
        {
            await transport.PublishAsync(new Message("jobs", Encoding.UTF8.GetBytes(text)), CancellationToken.None);
        }
    }

    private static Task<Delivery> NextAsync(ITransportSubscription subscription) =>
        Wait.For(subscription.Deliveries.ReadAsync().AsTask(), "the next delivery");

    private static string Text(Delivery delivery) => Encoding.UTF8.GetString(delivery.Message.Data.Span);
}
