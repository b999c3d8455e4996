using System.CommandLine;
using System.Data.Common;

namespace ToDoList.Hosting;

/// <summary><c>todo</c> runs every role; <c>todo web|api|save-handler|audit-handler</c> runs one. Other arguments go to ASP.NET Core (<c>--urls</c>, settings).</summary>
public static class TodoCommandLine
{
    /// <summary>Parses <paramref name="args"/> and runs the command: the whole of <c>Program.cs</c>.</summary>
    public static Task<int> InvokeAsync(string[] args)
    {
        var parsed = Create().Parse(args);
        // A role's host stops on SIGTERM (docker stop, a scale-down) and Ctrl+C by itself, draining its handlers within its
        // shutdown timeout. System.CommandLine's own handling would end the process 2 s after the signal with exit code 143,
        // cutting that drain short. `todo mq` keeps it: its commands stop on the cancellation token.
        var runsRole = parsed.CommandResult.Command is RootCommand or RoleCommand;
        return parsed.InvokeAsync(runsRole ? new InvocationConfiguration { ProcessTerminationTimeout = null } : null);
    }

    public static RootCommand Create()
    {
        var root = new RootCommand("ToDoList: an event-driven to-do app. With no command it runs every part in one process on http://localhost:8080 (web) and http://localhost:8081 (API).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        root.SetAction((result, ct) => RunAsync(Role.AllInOne, result, ct));

        AddRole(root, "web", Role.Web, "The web UI (todo-web) on http://localhost:8080.");
        AddRole(root, "api", Role.Api, "The REST API (todo-api) on http://localhost:8081.");
        AddRole(root, "save-handler", Role.SaveHandler, "Stores new items (queue group save-handler). Listens only with --urls, for /healthz and /metrics.");
        AddRole(root, "audit-handler", Role.AuditHandler, "Records every new-item event (queue group audit-handler). Listens only with --urls.");
        root.Subcommands.Add(Cli.MqCommands.Create());
        root.Subcommands.Add(Cli.HealthCheckCommand.Create());
        return root;
    }

    private static void AddRole(RootCommand root, string name, Role role, string description)
    {
        var command = new RoleCommand(name, description) { TreatUnmatchedTokensAsErrors = false };
        command.SetAction((result, ct) => RunAsync(role, result, ct));
        root.Subcommands.Add(command);
    }

    private static async Task<int> RunAsync(Role role, ParseResult result, CancellationToken cancellationToken)
    {
        IHost host;
        try
        {
            host = TodoApp.Build(role, [.. result.UnmatchedTokens]);
        }
        catch (RoleConfigurationException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }

        try
        {
            await host.RunAsync(cancellationToken);
            return 0;
        }
        catch (Messaging.MessagingException e)
        {
            // The host logged the details; the last line says what to change.
            await Console.Error.WriteLineAsync($"{role.ServiceName()}: {e.Message}");
            return 2;
        }
        catch (DbException e)
        {
            // Unreachable, refused login, bad migration: the provider's message names the server and user, never the password.
            await Console.Error.WriteLineAsync($"{role.ServiceName()}: the database failed: {e.Message}");
            return 2;
        }
    }

    /// <summary>A command that runs one role in a host of its own.</summary>
    private sealed class RoleCommand(string name, string description) : Command(name, description);
}
