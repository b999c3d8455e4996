using ToDoList.Hosting;
using ToDoList.Messaging.Hosting;
using ToDoList.Messaging.Transport;

namespace ToDoList.Tests;

/// <summary>
/// SPEC §4 on a first deployment: every role declares every durable group of the app, publishers too, so whichever
/// process starts first, nothing posted before a handler first ran is lost. (Across processes on NATS:
/// <c>NatsDeclaredGroupTests</c> in the messaging tests.)
/// </summary>
public sealed class TopologyTests
{
    public static TheoryData<Role> AllRoles => [Role.AllInOne, Role.Web, Role.Api, Role.SaveHandler, Role.AuditHandler];

    [Theory]
    [MemberData(nameof(AllRoles))]
    public async Task Every_role_declares_every_durable_group_and_its_handlers_join_only_those(Role role)
    {
        var directory = Directory.CreateTempSubdirectory("todo-topology-");
        // Built, never started: nothing connects to this queue.
        var host = TodoApp.Build(role, ["--MessageQueue:Url=nats://127.0.0.1:4222", "--urls", "http://127.0.0.1:0", $"--ConnectionStrings:ToDoDb=Data Source={Path.Combine(directory.FullName, "todo.db")}"]);
        try
        {
            var topology = TodoTopology.All.Select(g => (g.Subject, g.Name)).ToHashSet();
            var declared = host.Services.GetServices<DurableGroupRequest>().Select(g => (g.Subject, g.Group)).ToHashSet();
            Assert.Equal(topology.Order(), declared.Order());

            var joined = host.Services.GetServices<HandlerRegistration>().Where(r => r.Options.Durable).Select(r => (r.Subject, r.Options.QueueGroup!));
            Assert.All(joined, group => Assert.Contains(group, topology));
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
            directory.Delete(recursive: true);
        }
    }
}
