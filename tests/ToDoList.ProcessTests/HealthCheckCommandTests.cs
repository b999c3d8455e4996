namespace ToDoList.ProcessTests;

/// <summary><c>todo healthcheck URL</c>: what the Compose files' healthchecks run inside the image, which has no curl.</summary>
public sealed class HealthCheckCommandTests(Servers servers, ITestOutputHelper output) : ProcessTest(servers, output)
{
    private static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Healthcheck_exits_0_for_a_healthy_role_and_1_when_nothing_answers()
    {
        var (deployment, _) = await NewDeploymentAsync();
        await using var _ = deployment;
        var web = await deployment.StartListeningAsync("web");

        var healthy = deployment.Start("healthcheck", ["healthcheck", new Uri(web.BaseUrl!, "/healthz").ToString()]);
        var closed = deployment.Start("healthcheck closed", ["healthcheck", $"http://127.0.0.1:{Deployment.FreeLoopbackPort()}/healthz", "--timeout", "2"]);

        Assert.True(await healthy.WaitForExitAsync(CommandDeadline) == 0, healthy.Tail());
        Assert.Equal(["200 OK"], healthy.StandardOutput);
        Assert.True(await closed.WaitForExitAsync(CommandDeadline) == 1, closed.Tail());
        Assert.Contains(closed.Lines, l => l.StartsWith("unhealthy:", StringComparison.Ordinal));
    }
}
