using System.Diagnostics;
using YamlDotNet.Serialization;

namespace ToDoList.ProcessTests;

/// <summary>
/// deploy/: no Docker engine or cluster runs here, so the Compose files are checked by <c>docker-compose config</c> and the
/// Kubernetes manifests by <c>kubectl kustomize</c>, and what they resolve to is read back. The same topology runs as
/// processes in <see cref="SeedWalkthroughTests"/>.
/// </summary>
public sealed class DeployFilesTests
{
    private static readonly string Deploy = Path.Combine(PublishedApp.RepositoryRoot(), "deploy");
    private static readonly string[] Roles = ["todo-web", "save-handler", "audit-handler", "todo-api"];

    public static TheoryData<string[]> Combinations => new()
    {
        new[] { "docker-compose.yml" },
        new[] { "docker-compose.yml", "docker-compose-audit.yml" },
        new[] { "docker-compose.yml", "docker-compose-api.yml" },
        new[] { "docker-compose.yml", "docker-compose-audit.yml", "docker-compose-api.yml" },
        new[] { "docker-compose.yml", "docker-compose-redis.yml", "docker-compose-audit.yml", "docker-compose-api.yml" },
        new[] { "docker-compose.yml", "docker-compose-rabbitmq.yml", "docker-compose-audit.yml", "docker-compose-api.yml" },
    };

    [Theory]
    [MemberData(nameof(Combinations))]
    public async Task Every_compose_combination_is_valid_with_healthchecks_and_the_queue_for_every_role(string[] files)
    {
        var services = Map(await ComposeAsync(files), "services");

        Assert.Contains("message-queue", services.Keys);
        Assert.Contains("todo-db", services.Keys);
        foreach (var (name, value) in services)
        {
            var service = (Dictionary<object, object>)value;
            Assert.True(service.ContainsKey("healthcheck"), $"{name} has no healthcheck");
            if (Roles.Contains(name))
            {
                Assert.StartsWith("nats://message-queue:4222", Text(service, "environment", "MessageQueue__Url"));
                Assert.Equal("Postgres", Text(service, "environment", "Database__Provider"));
                Assert.Contains("Host=todo-db;", Text(service, "environment", "ConnectionStrings__ToDoDb"));
                Assert.Equal("service_healthy", Text(service, "depends_on", "message-queue", "condition"));
                Assert.Equal("service_healthy", Text(service, "depends_on", "todo-db", "condition"));
                Assert.Equal("deploy/Dockerfile", Text(service, "build", "dockerfile"));
            }
        }
    }

    [Fact]
    public async Task Base_file_has_the_seeds_services_and_ports_and_the_save_handler_scales()
    {
        var services = Map(await ComposeAsync("docker-compose.yml"), "services");

        Assert.Equal(["message-queue", "save-handler", "todo-db", "todo-web"], services.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["8222"], PublishedPorts(services, "message-queue"));
        Assert.Equal(["8080"], PublishedPorts(services, "todo-web"));
        var saveHandler = (Dictionary<object, object>)services["save-handler"];
        // --scale save-handler=3 needs no fixed name and no host port.
        Assert.False(saveHandler.ContainsKey("container_name"));
        Assert.Empty(PublishedPorts(services, "save-handler"));
        var natsConf = File.ReadAllText(Path.Combine(Deploy, "nats.conf"));
        Assert.Contains("jetstream {", natsConf);
        Assert.Contains("http: 0.0.0.0:8222", natsConf);
    }

    [Fact]
    public async Task Audit_and_api_files_add_the_seeds_roles_the_api_on_8081()
    {
        var services = Map(await ComposeAsync("docker-compose.yml", "docker-compose-audit.yml", "docker-compose-api.yml"), "services");

        Assert.Equal(["audit-handler"], Items(services, "audit-handler", "command"));
        Assert.Equal(["api"], Items(services, "todo-api", "command"));
        Assert.Equal(["8081"], PublishedPorts(services, "todo-api"));
        Assert.Empty(PublishedPorts(services, "audit-handler"));
    }

    [Theory]
    [InlineData("docker-compose-redis.yml", "redis://message-queue:6379", "redis:")]
    [InlineData("docker-compose-rabbitmq.yml", "amqp://todo:pw@message-queue:5672/", "rabbitmq:")]
    public async Task Queue_overrides_swap_the_broker_and_every_role_follows_QUEUE_URL(string file, string url, string image)
    {
        var services = Map(await ComposeAsync(["docker-compose.yml", file, "docker-compose-audit.yml", "docker-compose-api.yml"], ("QUEUE_URL", url)), "services");

        Assert.StartsWith(image, Text(services, "message-queue", "image"));
        Assert.All(Roles, role => Assert.Equal(url, Text(services, role, "environment", "MessageQueue__Url")));
    }

    [Fact]
    public async Task Kustomize_builds_a_three_node_jetstream_cluster_postgres_and_every_role_with_probes_on_healthz()
    {
        var documents = (await RunAsync("kubectl", ["kustomize", Path.Combine(Deploy, "k8s")])).Split("\n---\n");
        var resources = documents.Select(d => new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(d))
            .ToDictionary(r => $"{Text(r, "kind")}/{Text(r, "metadata", "name")}");

        Assert.Equal("3", Text(resources["StatefulSet/nats"], "spec", "replicas"));
        var natsConf = Text(resources.Single(r => r.Key.StartsWith("ConfigMap/nats-config", StringComparison.Ordinal)).Value, "data", "nats.conf");
        Assert.Contains("jetstream", natsConf);
        Assert.Contains("nats-2.nats-cluster:6222", natsConf);
        Assert.Contains("StatefulSet/todo-db", resources.Keys);
        foreach (var role in Roles)
        {
            var deployment = resources[$"Deployment/{role}"];
            var container = (Dictionary<object, object>)Items(deployment, "spec", "template", "spec", "containers").Single();
            Assert.Equal("todo-list:latest", Text(container, "image"));
            Assert.Equal("/healthz", Text(container, "readinessProbe", "httpGet", "path"));
            Assert.Equal("/healthz", Text(container, "livenessProbe", "httpGet", "path"));
            Assert.Equal("true", Text(deployment, "spec", "template", "spec", "securityContext", "runAsNonRoot"));
        }

        Assert.Equal("save-handler", Text(resources["HorizontalPodAutoscaler/save-handler"], "spec", "scaleTargetRef", "name"));
        Assert.Contains("Service/todo-web", resources.Keys);
        Assert.Contains("Service/todo-api", resources.Keys);
    }

    [Fact]
    public void The_image_builds_in_stages_and_runs_as_a_non_root_user()
    {
        var dockerfile = File.ReadAllLines(Path.Combine(Deploy, "Dockerfile"));

        Assert.Equal(2, dockerfile.Count(l => l.StartsWith("FROM ", StringComparison.Ordinal)));
        Assert.Contains(dockerfile, l => l.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:", StringComparison.Ordinal));
        Assert.Equal("USER $APP_UID", dockerfile.Last(l => l.StartsWith("USER ", StringComparison.Ordinal)));
    }

    private static Task<Dictionary<object, object>> ComposeAsync(params string[] files) => ComposeAsync(files, null);

    private static async Task<Dictionary<object, object>> ComposeAsync(string[] files, (string Name, string Value)? variable)
    {
        string[] arguments = [.. files.SelectMany(f => new[] { "-f", f }), "config"];
        var yaml = await RunAsync("docker-compose", arguments, variable);
        return new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(yaml);
    }

    private static async Task<string> RunAsync(string command, string[] arguments, (string Name, string Value)? variable = null)
    {
        var start = new ProcessStartInfo(command) { WorkingDirectory = Deploy, RedirectStandardOutput = true, RedirectStandardError = true };
        arguments.ToList().ForEach(start.ArgumentList.Add);
        if (variable is { } v)
        {
            start.Environment[v.Name] = v.Value;
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{command} is not installed: ./test.sh installs it (apt-get install {command}).", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)} exited {process.ExitCode}: {await error}");
            return await output;
        }
    }

    private static Dictionary<string, object> Map(Dictionary<object, object> root, string key) =>
        ((Dictionary<object, object>)root[key]).ToDictionary(p => (string)p.Key, p => p.Value);

    private static string Text(object node, params string[] path) => path.Aggregate(node, (n, key) => ((IDictionary<object, object>)n)[key]).ToString()!;

    private static string Text(Dictionary<string, object> services, string service, params string[] path) => Text(services[service], path);

    private static List<object> Items(object node, params string[] path) => (List<object>)path.Aggregate(node, (n, key) => ((IDictionary<object, object>)n)[key]);

    private static List<object> Items(Dictionary<string, object> services, string service, params string[] path) => Items(services[service], path);

    private static IEnumerable<string> PublishedPorts(Dictionary<string, object> services, string service) =>
        ((Dictionary<object, object>)services[service]).TryGetValue("ports", out var ports)
            ? ((List<object>)ports).Select(p => ((IDictionary<object, object>)p)["published"].ToString()!)
            : [];
}
