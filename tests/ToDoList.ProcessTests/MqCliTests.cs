using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using NATS.Client.Core;

namespace ToDoList.ProcessTests;

/// <summary>
/// <c>todo mq</c> on NATS, each command its own process as the seed's <c>redis-cli</c> and <c>nats-sub</c> are,
/// and the queue's own client (NATS.Net, as <c>nats pub</c>) talking to the app's roles.
/// </summary>
public sealed class MqCliTests(Servers servers, ITestOutputHelper output) : ProcessTest(servers, output)
{
    private static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Pub_with_repeat_reaches_a_running_sub()
    {
        var (deployment, _) = await NewDeploymentAsync();
        await using var _ = deployment;
        var sub = deployment.StartMq("sub", "channel21", "--count", "3");
        await sub.WaitForLineAsync("Listening on channel21", Deployment.StartDeadline);

        var pub = await deployment.RunMqAsync(CommandDeadline, "pub", "channel21", "ping", "-r", "3");

        Assert.True(pub.ExitCode == 0, pub.Tail());
        Assert.Equal(["Published [1] channel21: 'ping'", "Published [2] channel21: 'ping'", "Published [3] channel21: 'ping'"], pub.StandardOutput);
        Assert.True(await sub.WaitForExitAsync(CommandDeadline) == 0, sub.Tail());
        Assert.Equal(["[#1] channel21: ping", "[#2] channel21: ping", "[#3] channel21: ping"], sub.StandardOutput);
    }

    [Fact]
    public async Task Req_gets_the_answer_of_a_running_reply()
    {
        var (deployment, _) = await NewDeploymentAsync();
        await using var _ = deployment;
        var reply = deployment.StartMq("reply", "time.now", "noon");
        await reply.WaitForLineAsync("Answering on time.now", Deployment.StartDeadline);

        var req = await deployment.RunMqAsync(CommandDeadline, "req", "time.now", "what time is it?");

        Assert.True(req.ExitCode == 0, req.Tail() + "\n" + reply.Tail());
        Assert.Equal(["noon"], req.StandardOutput);
        await reply.WaitForLineAsync("Request on time.now: what time is it?", CommandDeadline);
    }

    [Fact]
    public async Task Req_with_no_responder_exits_3_at_once()
    {
        var (deployment, _) = await NewDeploymentAsync();
        await using var _ = deployment;
        var clock = Stopwatch.StartNew();

        var req = await deployment.RunMqAsync(CommandDeadline, "req", "nobody.listens", "hello?", "--timeout", "60");

        Assert.True(req.ExitCode == 3, req.Tail());
        // The whole process, start included, ends long before the 60 s timeout: NATS says at once that nobody listens.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"todo mq req took {clock.Elapsed.TotalSeconds:0.0} s.\n{req.Tail()}");
        Assert.Empty(req.StandardOutput);
        Log($"todo mq req with no responder exited 3 after {clock.Elapsed.TotalMilliseconds:0} ms, process start included");
    }

    [Fact]
    public async Task Queue_group_members_share_the_messages()
    {
        const int messages = 20;
        var (deployment, _) = await NewDeploymentAsync();
        await using var _ = deployment;
        var members = new[] { deployment.StartMq("sub", "work.items", "--queue", "workers"), deployment.StartMq("sub", "work.items", "--queue", "workers") };
        await Task.WhenAll(members.Select(m => m.WaitForLineAsync("Listening on work.items (group workers)", Deployment.StartDeadline)));

        var pub = await deployment.RunMqAsync(CommandDeadline, "pub", "work.items", "job", "-r", messages.ToString());
        Assert.True(pub.ExitCode == 0, pub.Tail());

        await TodoProcess.WaitForAllAsync(members, () => members.Sum(m => m.StandardOutput.Count) >= messages, $"{messages} messages between the two members", CommandDeadline);
        var counts = members.Select(m => m.StandardOutput.Count).ToArray();
        Log($"members took {string.Join(" and ", counts)} messages");
        // Each message to one member: 20 in all, not 40; and each member some (both at once having none left is 2 in a million).
        Assert.Equal(messages, counts.Sum());
        Assert.All(counts, count => Assert.True(count > 0, $"A member took none of them: {string.Join(", ", counts)}.\n{deployment.Logs()}"));
    }

    [Theory]
    [InlineData("orders.placed")]
    [InlineData("channel21")]
    public async Task Durable_sub_gets_what_was_published_while_it_was_stopped(string subject)
    {
        var (deployment, _) = await NewDeploymentAsync();
        await using var _ = deployment;
        var first = deployment.StartMq("sub", subject, "--durable", "billing");
        await first.WaitForLineAsync($"Listening on {subject} (group billing)", Deployment.StartDeadline);
        await first.KillAsync();

        var pub = await deployment.RunMqAsync(CommandDeadline, "pub", subject, "order", "-r", "3");
        Assert.True(pub.ExitCode == 0, pub.Tail());

        var again = deployment.StartMq("sub", subject, "--durable", "billing", "--count", "3");
        Assert.True(await again.WaitForExitAsync(CommandDeadline) == 0, again.Tail());
        Assert.Equal([$"[#1] {subject}: order", $"[#2] {subject}: order", $"[#3] {subject}: order"], again.StandardOutput);
    }

    [Fact]
    public async Task A_bare_new_item_from_a_plain_NATS_client_is_stored_like_an_API_item()
    {
        var (deployment, database) = await NewDeploymentAsync();
        await using var _ = deployment;
        var saveHandler = deployment.StartHandlerAsync("save-handler");
        var api = deployment.StartListeningAsync("api");
        await Task.WhenAll(saveHandler, api);
        using var client = Deployment.ClientOf(await api);
        var fromApi = Unique("from the API");
        await PostItemAsync(client, fromApi, () => deployment.Logs());

        // What `nats pub events.todo.newitem '{"item":"from nats"}'` sends: no headers, no envelope.
        await using (var nats = new NatsConnection(NatsOpts.Default with { Url = deployment.QueueUrl, Name = "plain NATS client" }))
        {
            await nats.PublishAsync("events.todo.newitem", Encoding.UTF8.GetBytes("""{"item":"from nats"}"""));
            await nats.PingAsync();
        }

        await database.WaitForItemsAsync(items => items.Count >= 2, "both items stored", SaveDeadline, () => deployment.Logs());
        var listed = await client.GetFromJsonAsync<List<ListedItem>>("/todo");
        Assert.NotNull(listed);
        Assert.True(listed.Count == 2, $"GET /todo answered {listed.Count} items.\n{deployment.Logs()}");
        var plain = Assert.Single(listed, i => i.Item == "from nats");
        var posted = Assert.Single(listed, i => i.Item == fromApi);
        Assert.False(plain.Done);
        Assert.True(plain.Id > 0 && plain.DateAdded > DateTimeOffset.UtcNow.AddMinutes(-5), $"Stored as {plain}");
        Assert.Equal(posted.Done, plain.Done);
    }

    [Fact]
    public async Task Deadletters_lists_shows_replays_and_deletes_what_the_handlers_gave_up_on()
    {
        var (deployment, database) = await NewDeploymentAsync();
        await using var _ = deployment;
        await Task.WhenAll(deployment.StartHandlerAsync("save-handler"), deployment.StartListeningAsync("web"));

        // Not JSON: the save handler gives up at once, and the web keeps the dead letter.
        var pub = await deployment.RunMqAsync(CommandDeadline, "pub", "events.todo.newitem", "not json at all");
        Assert.True(pub.ExitCode == 0, pub.Tail());
        var listed = await ListUntilAsync(deployment, lines => lines.Any(IsSaveHandlers), "the save handler's dead letter listed", "--subject", "events.todo.*");
        var fields = listed.Single(IsSaveHandlers).Split('\t');
        var id = fields[0];
        Assert.Equal("events.todo.newitem", fields[2]);
        Assert.Contains("PoisonMessageException", fields[5]);

        var show = await deployment.RunMqAsync(CommandDeadline, "deadletters", "show", id);
        Assert.True(show.ExitCode == 0, show.Tail());
        Assert.Contains("not json at all", show.StandardOutput);
        Assert.Contains($"id:       {id}", show.StandardOutput);

        var replay = await deployment.RunMqAsync(CommandDeadline, "deadletters", "replay", id);
        Assert.True(replay.ExitCode == 0, replay.Tail());
        Assert.Equal(["Replayed 1 dead letter."], replay.StandardOutput);

        // Still not JSON: it comes back as a new dead letter, and delete --all forgets every one.
        var again = await deployment.RunMqAsync(CommandDeadline, "deadletters", "replay", id);
        Assert.True(again.ExitCode == 1, again.Tail());
        await ListUntilAsync(deployment, lines => lines.Any(l => IsSaveHandlers(l) && !l.StartsWith(id, StringComparison.Ordinal)), "the replayed message dead-lettered again");
        var delete = await deployment.RunMqAsync(CommandDeadline, "deadletters", "delete", "--all");
        Assert.True(delete.ExitCode == 0, delete.Tail());
        Assert.Empty((await deployment.RunMqAsync(CommandDeadline, "deadletters", "list")).StandardOutput);
        Assert.Empty(await database.ItemsAsync());
    }

    [Fact]
    public async Task Deadletters_with_no_keeper_running_exits_3_saying_who_keeps_them()
    {
        var (deployment, _) = await NewDeploymentAsync();
        await using var _ = deployment;

        var list = await deployment.RunMqAsync(CommandDeadline, "deadletters", "list");

        Assert.True(list.ExitCode == 3, list.Tail());
        Assert.Contains(list.Lines, l => l.Contains("todo-web", StringComparison.Ordinal));
    }

    private static bool IsSaveHandlers(string line) => line.Contains("\tsave-handler\t", StringComparison.Ordinal);

    /// <summary>Runs <c>todo mq deadletters list</c> until its lines satisfy <paramref name="done"/>, within the save deadline.</summary>
    private static async Task<IReadOnlyList<string>> ListUntilAsync(Deployment deployment, Func<IReadOnlyList<string>, bool> done, string what, params string[] options)
    {
        var deadline = DateTime.UtcNow + SaveDeadline;
        while (true)
        {
            var list = await deployment.RunMqAsync(CommandDeadline, ["deadletters", "list", .. options]);
            Assert.True(list.ExitCode == 0, list.Tail());
            if (done(list.StandardOutput))
            {
                return list.StandardOutput;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.\n{list.Tail()}\n{deployment.Logs()}");
        }
    }
}
