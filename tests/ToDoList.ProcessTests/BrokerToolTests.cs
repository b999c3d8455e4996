using System.Diagnostics;
using System.Net.Http.Json;

namespace ToDoList.ProcessTests;

/// <summary>
/// The brokers' own tools publishing a new item as the API does (SPEC §3: <c>events.todo.newitem</c>, body
/// <c>{"item":"..."}</c>): a running save handler stores it and <c>GET /todo</c> lists it. docs/messaging.md
/// names the commands: <c>amqp-publish -e todo -r SUBJECT</c> on RabbitMQ, <c>XADD todo:stream:SUBJECT</c> on Redis.
/// </summary>
public sealed class BrokerToolTests(Servers servers, ITestOutputHelper output) : ProcessTest(servers, output)
{
    [Fact]
    public async Task An_item_published_with_amqp_publish_is_stored_and_listed()
    {
        var (deployment, database) = await NewDeploymentAsync(QueueKind.RabbitMq);
        await using var _ = deployment;
        var client = await StartSaveHandlerAndApiAsync(deployment);
        var rabbitMq = await Servers.RabbitMqAsync();

        var (exitCode, output) = await Servers.RunToolAsync(
            "amqp-publish", "-u", rabbitMq.ToolUrl, "-e", "todo", "-r", "events.todo.newitem", "-b", """{"item":"from amqp"}""");

        Assert.True(exitCode == 0, $"amqp-publish exited {exitCode}: {output}");
        await ListedOnceAsync(client, database, deployment, "from amqp");
    }

    [Fact]
    public async Task An_item_added_with_redis_cli_XADD_is_stored_and_listed()
    {
        var (deployment, database) = await NewDeploymentAsync(QueueKind.Redis);
        await using var _ = deployment;
        var client = await StartSaveHandlerAndApiAsync(deployment);
        var redis = await Servers.RedisAsync();

        using var cli = redis.StartCli(
            "XADD", "todo:stream:events.todo.newitem", "*", ":subject", "events.todo.newitem", ":data", """{"item":"from redis"}""");
        var entryId = (await cli.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30))).Trim();
        await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(cli.ExitCode == 0 && entryId.Contains('-', StringComparison.Ordinal), $"redis-cli XADD exited {cli.ExitCode}: {entryId} {await cli.StandardError.ReadToEndAsync()}");
        await ListedOnceAsync(client, database, deployment, "from redis");
    }

    /// <summary>A save handler subscribed (its durable group in place) and the API answering.</summary>
    private static async Task<HttpClient> StartSaveHandlerAndApiAsync(Deployment deployment)
    {
        var saveHandler = deployment.StartHandlerAsync("save-handler");
        var api = deployment.StartListeningAsync("api");
        await Task.WhenAll(saveHandler, api);
        return Deployment.ClientOf(await api);
    }

    private async Task ListedOnceAsync(HttpClient client, TodoDatabase database, Deployment deployment, string item)
    {
        using var _ = client;
        var clock = Stopwatch.StartNew();
        var stored = await database.WaitForItemsAsync(items => items.Count > 0, $"'{item}' to be stored", SaveDeadline, () => deployment.Logs());
        Log($"'{item}' stored {clock.ElapsedMilliseconds} ms after the tool ended");
        Assert.Equal(item, Assert.Single(stored).Item);
        var listed = await client.GetFromJsonAsync<List<ListedItem>>("/todo");
        Assert.Equal([(stored[0].Id, item)], listed!.Select(i => (i.Id, i.Item)));
    }
}
