using System.Net;
using System.Text.RegularExpressions;

namespace ToDoList.ProcessTests;

/// <summary>
/// SPEC §2: a password in <c>MessageQueue:Url</c> or <c>ConnectionStrings:ToDoDb</c> never appears in a log
/// line, a page or an error: every role, logging everything, on a NATS server and a PostgreSQL role that ask for one.
/// </summary>
public sealed class PasswordTests(Servers servers, ITestOutputHelper output) : ProcessTest(servers, output)
{
    private const string NatsUser = "todo";

    [Fact]
    public async Task The_roles_never_print_the_NATS_or_PostgreSQL_password()
    {
        var natsPassword = Secret();
        var databasePassword = Secret();
        await using var nats = await NatsServer.StartAsync($$"""authorization { user: "{{NatsUser}}", password: "{{natsPassword}}" }""");
        var connectionString = await Servers.Postgres.CreateDatabaseWithPasswordAsync(databasePassword);
        var queueUrl = $"nats://{NatsUser}:{natsPassword}@127.0.0.1:{nats.Port}";
        await using var deployment = new Deployment(Servers.AppDir, queueUrl, connectionString, Output);
        foreach (var category in new[] { "Default", "Microsoft", "Microsoft.AspNetCore", "Microsoft.EntityFrameworkCore", "Npgsql", "NATS.Client" })
        {
            deployment.Settings[$"Logging__LogLevel__{category}"] = "Trace";
        }

        var saveHandler = deployment.StartListeningAsync("save-handler");
        var auditHandler = deployment.StartListeningAsync("audit-handler");
        var api = deployment.StartListeningAsync("api");
        var web = deployment.StartListeningAsync("web");
        var sub = deployment.StartMq("sub", "events.todo.>", "--count", "2");
        await Task.WhenAll(saveHandler, auditHandler, api, web, sub.WaitForLineAsync("Listening on events.todo.>", Deployment.StartDeadline));
        await Task.WhenAll(new[] { saveHandler, auditHandler }.Select(async h => (await h).WaitForLineAsync(Deployment.SubscribedToNewItems, Deployment.StartDeadline)));

        // An item the whole way: API, queue, save handler, database, the saved event.
        using var client = Deployment.ClientOf(await api);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/todo") { Content = new StringContent("""{"item":"behind passwords"}""", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Prefer", "wait=20");
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /todo with Prefer: wait answered {(int)response.StatusCode}.\n{deployment.Logs()}");
        Assert.True(await sub.WaitForExitAsync(SaveDeadline) == 0, sub.Tail());
        await (await auditHandler).WaitForLineAsync("AUDIT: event ", SaveDeadline);

        // What the roles answer over HTTP: health, metrics, the pages.
        var answers = new List<string>();
        foreach (var role in new[] { await saveHandler, await auditHandler, await api, await web })
        {
            using var http = Deployment.ClientOf(role);
            foreach (var path in new[] { "/healthz", "/metrics" })
            {
                answers.Add($"{role.Name} {path}: {await http.GetStringAsync(path)}");
            }
        }

        using (var webClient = Deployment.ClientOf(await web))
        {
            foreach (var path in new[] { "/", "/list", "/diagnostics" })
            {
                answers.Add($"{path}: {await webClient.GetStringAsync(path)}");
            }
        }

        // A refused password: named as the failure, never printed.
        var wrongNats = Secret();
        deployment.Settings["MessageQueue__Url"] = $"nats://{NatsUser}:{wrongNats}@127.0.0.1:{nats.Port}";
        var refused = deployment.Start("save-handler (wrong NATS password)", ["save-handler"]);
        Assert.True(await refused.WaitForExitAsync(Deployment.StartDeadline) == 2, refused.Tail());
        Log($"{refused.Name} said last: {refused.Lines.LastOrDefault()}");

        var everything = string.Join('\n', deployment.Processes.Select(p => p.Output).Concat(answers));
        Log($"{deployment.Processes.Count} processes wrote {deployment.Processes.Sum(p => p.Lines.Count)} lines");
        foreach (var password in new[] { natsPassword, databasePassword, wrongNats })
        {
            var leak = deployment.Processes.FirstOrDefault(p => p.Output.Contains(password, StringComparison.Ordinal));
            Assert.True(leak is null, $"{leak?.Name} printed a password:\n{string.Join('\n', leak?.Lines.Where(l => l.Contains(password, StringComparison.Ordinal)).Take(5) ?? [])}");
            Assert.DoesNotContain(password, everything);
        }

        Assert.Contains(refused.Lines, l => Regex.IsMatch(l, "Authorization Violation|authorization", RegexOptions.IgnoreCase));
    }

    private static string Secret() => "pw" + Guid.NewGuid().ToString("N");
}
