using System.Net;
using System.Text.RegularExpressions;

namespace ToDoList.ProcessTests;

/// <summary>
/// Least privilege on the queue (docs/security.md): every role runs with its own broker user, configured by the files
/// in deploy/permissions as they are, an item goes the whole way, and what a role may not do is refused by the broker
/// and said so (a failed command naming the refusal, or an error line), never silently dropped.
/// </summary>
public sealed class PermissionTests(Servers servers, ITestOutputHelper output) : ProcessTest(servers, output)
{
    private static readonly string Permissions = Path.Combine(PublishedApp.RepositoryRoot(), "deploy", "permissions");
    private static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(45);

    /// <summary>The environment variables the deploy files read the passwords from, and the user each is for.</summary>
    private static readonly (string User, string Variable)[] Users =
    [
        ("todo-web", "TODO_WEB_PASSWORD"),
        ("todo-api", "TODO_API_PASSWORD"),
        ("save-handler", "TODO_SAVE_HANDLER_PASSWORD"),
        ("audit-handler", "TODO_AUDIT_HANDLER_PASSWORD"),
        ("admin", "TODO_ADMIN_PASSWORD"),
    ];

    private readonly Dictionary<string, string> _passwords = Users.ToDictionary(u => u.Variable, _ => "pw" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task On_NATS_each_role_works_with_its_own_user_and_is_refused_what_it_may_not_do()
    {
        // The file as deployed; the variables it reads from the environment are defined above it instead.
        var variables = string.Join('\n', _passwords.Select(p => $"{p.Key}: \"{p.Value}\""));
        await using var nats = await NatsServer.StartAsync(variables + "\n" + await File.ReadAllTextAsync(Path.Combine(Permissions, "nats-users.conf")));
        await RunAsync(
            (user, password) => $"nats://{user}:{password}@127.0.0.1:{nats.Port}",
            refusal: "Permissions Violation for Publish to",
            groupRefusal: "Permissions Violation for Publish to \"$JS.API.CONSUMER.MSG.NEXT.EVENTS.save-handler\"");
    }

    [Fact]
    public async Task On_Redis_each_role_works_with_its_own_user_and_is_refused_what_it_may_not_do()
    {
        var acl = Path.Combine(Path.GetTempPath(), $"todo-users-{Guid.NewGuid():N}.acl");
        var text = await File.ReadAllTextAsync(Path.Combine(Permissions, "redis-users.acl"));
        await File.WriteAllTextAsync(acl, _passwords.Aggregate(text, (t, p) => t.Replace("${" + p.Key + "}", p.Value, StringComparison.Ordinal)));
        try
        {
            await using var redis = await Messaging.Tests.Servers.RedisServer.StartAsync("--aclfile", acl);
            await RunAsync(
                (user, password) => $"redis://{user}:{password}@127.0.0.1:{redis.Port}",
                refusal: "can't access at least one of the keys",
                groupRefusal: "NOPERM");
        }
        finally
        {
            File.Delete(acl);
        }
    }

    [Fact]
    public async Task On_RabbitMQ_each_role_works_with_its_own_user_and_is_refused_what_it_may_not_do()
    {
        var rabbitMq = await Servers.RabbitMqAsync();
        var script = new System.Diagnostics.ProcessStartInfo("/bin/sh", [Path.Combine(Permissions, "rabbitmq-users.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in rabbitMq.CtlEnvironment.Concat(_passwords))
        {
            script.Environment[name] = value;
        }

        using (var users = System.Diagnostics.Process.Start(script)!)
        {
            var said = users.StandardOutput.ReadToEndAsync();
            var error = users.StandardError.ReadToEndAsync();
            await users.WaitForExitAsync().WaitAsync(CommandDeadline);
            Assert.True(users.ExitCode == 0, $"rabbitmq-users.sh exited {users.ExitCode}: {await said}{await error}");
        }

        // No group refusal: RabbitMQ lets only a user who may read a queue declare it with x-dead-letter-exchange, and
        // every role declares every group, so every role may read every group's queue (docs/security.md).
        await RunAsync(
            (user, password) => rabbitMq.UrlFor(user, password, "todo"),
            refusal: "ACCESS_REFUSED - access to topic",
            groupRefusal: null);
    }

    /// <summary>
    /// The roles, each as its own user; an item posted to the API saved, answered and audited; then what the API and
    /// the save handler may not do, with their own credentials: <paramref name="refusal"/> for a refused publish,
    /// <paramref name="groupRefusal"/> for joining another role's durable group, where the broker can refuse it.
    /// </summary>
    private async Task RunAsync(Func<string, string, string> urlOf, string refusal, string? groupRefusal)
    {
        string UrlOf(string user) => urlOf(user, _passwords[Users.Single(u => u.User == user).Variable]);

        await using var deployment = new Deployment(Servers.AppDir, UrlOf("todo-api"), await Servers.NewDatabaseAsync(), Output);
        Task<TodoProcess> StartAs(string user, string role)
        {
            // Read when the process starts, before the first await.
            deployment.Settings["MessageQueue__Url"] = UrlOf(user);
            return deployment.StartListeningAsync(role);
        }

        var saveHandler = StartAs("save-handler", "save-handler");
        var auditHandler = StartAs("audit-handler", "audit-handler");
        var api = StartAs("todo-api", "api");
        var web = StartAs("todo-web", "web");
        await Task.WhenAll(saveHandler, auditHandler, api, web);
        await Task.WhenAll(new[] { saveHandler, auditHandler }.Select(async h => (await h).WaitForLineAsync(Deployment.SubscribedToNewItems, Deployment.StartDeadline)));

        // Allowed: the API publishes, the save handler stores and answers the waiting API, the audit handler records.
        var item = Unique("least privilege");
        using (var client = Deployment.ClientOf(await api))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/todo") { Content = new StringContent($$"""{"item":"{{item}}"}""", System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("Prefer", "wait=20");
            using var response = await client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /todo with Prefer: wait answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{deployment.Logs()}");
        }

        await (await auditHandler).WaitForLineAsync($"new item {item}", SaveDeadline);

        // Allowed: the administrator's dead-letter commands, answered by the web.
        deployment.Settings["MessageQueue__Url"] = UrlOf("admin");
        var list = await deployment.RunMqAsync(CommandDeadline, "deadletters", "list");
        Assert.True(list.ExitCode == 0, $"todo mq deadletters list as admin exited {list.ExitCode}.\n{list.Tail()}");

        // Refused: only the handlers' buses dead-letter; the API may not.
        deployment.Settings["MessageQueue__Url"] = UrlOf("todo-api");
        var forgedDeadLetter = await deployment.RunMqAsync(CommandDeadline, "pub", "deadletter.events.todo.newitem", """{"item":"forged"}""");
        AssertRefused(forgedDeadLetter, refusal);

        // Refused: the save handler announces what it saved, it may not make new items.
        deployment.Settings["MessageQueue__Url"] = UrlOf("save-handler");
        var forgedItem = await deployment.RunMqAsync(CommandDeadline, "pub", "events.todo.newitem", """{"item":"forged"}""");
        AssertRefused(forgedItem, refusal);

        // Refused: the API may declare the save handler's durable group (every role does), not read from it.
        if (groupRefusal is not null)
        {
            deployment.Settings["MessageQueue__Url"] = UrlOf("todo-api");
            await using var stolen = deployment.StartMq("sub", "events.todo.newitem", "--durable", "save-handler");
            var line = await stolen.WaitForAsync(lines => lines.FirstOrDefault(l => l.Contains(groupRefusal, StringComparison.Ordinal)), $"a line saying \"{groupRefusal}\"", CommandDeadline);
            Log($"{stolen.Name} said: {line}");
        }

        // The roles' own work was never refused: the web's view of the broker (the diagnostics) included, once it was read.
        using (var webClient = Deployment.ClientOf(await web))
        {
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            while (!(await webClient.GetStringAsync("/metrics")).Contains("messaging_consumer_lag{", StringComparison.Ordinal))
            {
                Assert.True(deadline.Elapsed < CommandDeadline, $"The web never read the broker's view.\n{(await web).Tail()}");
                await Task.Delay(200);
            }
        }

        foreach (var role in new[] { await saveHandler, await auditHandler, await api, await web })
        {
            var refused = role.Lines.FirstOrDefault(l => l.Contains(refusal, StringComparison.Ordinal) || (groupRefusal is not null && l.Contains(groupRefusal, StringComparison.Ordinal)));
            Assert.True(refused is null, $"{role.Name} was refused its own work: {refused}\n{role.Tail()}");
        }

        // Nothing forged reached the database; no password was printed, refused or not.
        var stored = (await new TodoDatabase(deployment.Settings["ConnectionStrings__ToDoDb"]!).ItemsAsync()).Select(i => i.Item).ToList();
        Assert.Equal([item], stored);
        foreach (var password in _passwords.Values)
        {
            var leak = deployment.Processes.FirstOrDefault(p => p.Output.Contains(password, StringComparison.Ordinal));
            Assert.True(leak is null, $"{leak?.Name} printed a password.");
        }
    }

    private void AssertRefused(TodoProcess command, string refusal)
    {
        Log($"{command.Name} exited {command.ExitCode}, saying: {command.Lines.LastOrDefault()}");
        Assert.True(command.ExitCode == 2, $"{command.Name} exited {command.ExitCode}, not 2 (refused).\n{command.Tail()}");
        Assert.Contains(command.Lines, l => l.Contains(refusal, StringComparison.Ordinal));
        Assert.Contains(command.Lines, l => Regex.IsMatch(l, @"^todo mq: .*'(deadletter\.)?events\.todo\.newitem'"));
    }
}
