namespace ToDoList.Hosting;

/// <summary>The parts of the system one <c>todo</c> process can run (SPEC §1).</summary>
public enum Role
{
    AllInOne,
    Web,
    Api,
    SaveHandler,
    AuditHandler,
}

public static class Roles
{
    /// <summary>The seed's service name, shown in diagnostics and telemetry.</summary>
    public static string ServiceName(this Role role) => role switch
    {
        Role.AllInOne => "todo",
        Role.Web => "todo-web",
        Role.Api => "todo-api",
        Role.SaveHandler => "save-handler",
        Role.AuditHandler => "audit-handler",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    /// <summary>Where the role listens when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> says; null: it does not listen.</summary>
    public static string? DefaultUrls(this Role role) => role switch
    {
        Role.AllInOne => "http://localhost:8080;http://localhost:8081",
        Role.Web => "http://localhost:8080",
        Role.Api => "http://localhost:8081",
        _ => null,
    };

    public static bool HasWeb(this Role role) => role is Role.AllInOne or Role.Web;

    public static bool HasApi(this Role role) => role is Role.AllInOne or Role.Api;

    public static bool HasSaveHandler(this Role role) => role is Role.AllInOne or Role.SaveHandler;

    public static bool HasAuditHandler(this Role role) => role is Role.AllInOne or Role.AuditHandler;
}
