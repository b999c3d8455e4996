using Microsoft.AspNetCore.Diagnostics;
using Scalar.AspNetCore;
using ToDoList.Api;
using ToDoList.Data;
using ToDoList.Handlers;
using ToDoList.Items;
using ToDoList.Messaging;
using ToDoList.Messaging.DeadLetters;
using ToDoList.Messaging.Embedded;
using ToDoList.Messaging.Hosting;
using ToDoList.Messaging.Nats;
using ToDoList.Messaging.RabbitMq;
using ToDoList.Messaging.Redis;
using ToDoList.ServiceDefaults;
using ToDoList.Web;
using ToDoList.Web.Admin;
using ToDoList.Web.Components;

namespace ToDoList.Hosting;

/// <summary>Builds the process for one role: the all-in-one default, or one part of the distributed system.</summary>
public static class TodoApp
{
    public const string EmbeddedUrl = "embedded://";

    private static readonly string ApplicationName = typeof(TodoApp).Assembly.GetName().Name!;

    /// <summary>
    /// Builds the host of <paramref name="role"/>. Roles that listen (or are given <c>--urls</c>) get
    /// a web host with <c>/healthz</c> and <c>/metrics</c>; the handlers alone get a plain host.
    /// Throws <see cref="RoleConfigurationException"/> for a configuration the role cannot run with.
    /// </summary>
    public static IHost Build(Role role, string[] args)
    {
        var hostSettings = new ConfigurationBuilder().AddEnvironmentVariables("ASPNETCORE_").AddCommandLine(args).Build();
        var urls = hostSettings["urls"];
        if (urls is null && role.DefaultUrls() is null)
        {
            var hostBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
            {
                Args = args,
                ApplicationName = ApplicationName,
                ContentRootPath = hostSettings[WebHostDefaults.ContentRootKey] ?? AppContext.BaseDirectory,
            });
            hostBuilder.AddTodoServices(role);
            return hostBuilder.Build();
        }

        // Named after this assembly, not the entry one: static assets are found by it when another process (a test) hosts the app.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = ApplicationName,
            // wwwroot (blazor.web.js, app.css) and appsettings.json sit beside todo.dll; from another working folder
            // (the image runs in /data) static assets answered 200 with an empty body and no page ever became interactive.
            ContentRootPath = hostSettings[WebHostDefaults.ContentRootKey] ?? AppContext.BaseDirectory,
        });
        if (urls is null)
        {
            builder.WebHost.UseUrls(role.DefaultUrls()!);
        }

        builder.AddTodoServices(role);
        var app = builder.Build();
        app.UseTodoEndpoints(role);
        return app;
    }

    public static IHostApplicationBuilder AddTodoServices(this IHostApplicationBuilder builder, Role role)
    {
        // Blank is unset: a Compose file's `MessageQueue__Url: ${URL:-}` must meet the same clear refusal, or the default.
        var queueUrl = builder.Configuration["MessageQueue:Url"] is { } configured && !string.IsNullOrWhiteSpace(configured) ? configured.Trim() : null;
        if (role != Role.AllInOne && (queueUrl is null || IsInProcess(queueUrl)))
        {
            throw new RoleConfigurationException(
                $"{role.ServiceName()} needs a message queue shared with the other parts: set MessageQueue__Url (for example nats://localhost:4222); the in-process queue (embedded://, memory://) serves only the all-in-one `todo`.");
        }

        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddTodoDatabase();
        if (role == Role.AllInOne)
        {
            builder.Services.AddSingleton(new EmbeddedOptions { FilePath = EmbeddedQueueFile.For(builder.Configuration) });
        }

        builder.AddServiceDefaults(role.ServiceName());
        builder.Services.AddMessaging(_ => new MessagingOptions
        {
            Url = queueUrl ?? EmbeddedUrl,
            MonitorUrl = builder.Configuration["MessageQueue:MonitorUrl"] is { Length: > 0 } monitor ? monitor.Trim() : null,
            CaFile = builder.Configuration["MessageQueue:CaFile"] is { Length: > 0 } caFile ? caFile.Trim() : null,
            Source = "/" + role.ServiceName(),
            Json = new(TodoJson.Default.Options),
            Retry = new RetryPolicy { IsTransient = DatabaseOutage.IsTransient },
        });
        AddTransports(builder.Services);
        builder.Services.AddInstanceInfo(role.ServiceName(), typeof(TodoApp).Assembly);

        // Every role, whichever starts first on a new deployment: a group keeps only what is published after it exists.
        // How long a handler may hold a message before the queue gives it to another member (its process died). Default 30 s.
        var ackWait = builder.Configuration.GetValue<TimeSpan?>("MessageQueue:AckWait") ?? new SubscribeOptions().AckWait;
        foreach (var group in TodoTopology.All)
        {
            builder.Services.AddDurableGroup(group.Subject, group.Name, ackWait);
        }

        // A steady stream is stored in fewer, larger statements: a batch still filling waits this long for more (a lone
        // item is stored at once). At 64 clients a save took ~30 rows a statement, ~110 with it: ~10 µs less CPU an item.
        var batchWait = TimeSpan.FromMilliseconds(5);
        if (role.HasSaveHandler())
        {
            builder.Services.AddBatchMessageHandler<SaveHandler, NewItemEvent>(TodoTopology.SaveItems.Subject, TodoTopology.SaveItems.Options with { AckWait = ackWait, BatchWait = batchWait });
            builder.Services.AddMessageHandler<ItemCommandHandler, CompleteItemCommand>(TodoTopology.CompleteItems.Subject, TodoTopology.CompleteItems.Options with { AckWait = ackWait });
            builder.Services.AddMessageHandler<ItemCommandHandler, DeleteItemCommand>(TodoTopology.DeleteItems.Subject, TodoTopology.DeleteItems.Options with { AckWait = ackWait });
        }

        if (role.HasAuditHandler())
        {
            builder.Services.AddBatchMessageHandler<AuditHandler, NewItemEvent>(TodoTopology.AuditItems.Subject, TodoTopology.AuditItems.Options with { AckWait = ackWait, BatchWait = batchWait });
        }

        if (role.HasWeb())
        {
            builder.Services.AddRazorComponents().AddInteractiveServerComponents();
            builder.AddAdminAccess();
            builder.Services.AddSingleton<ItemFeed>();
            foreach (var subject in ItemFeed.Subjects)
            {
                builder.Services.AddSingleton(new HandlerRegistration(subject, new SubscribeOptions { Capacity = 4096 }, sp => sp.GetRequiredService<ItemFeed>().OnMessageAsync));
            }

            // The diagnostics' view of the broker and the consumer lag gauge: read by the web, which shows it.
            builder.Services.AddBrokerMonitor();
            builder.Services.AddSingleton<IDeadLetterRepository, DatabaseDeadLetters>();
            builder.Services.AddDeadLetterStore();
        }

        if (role.HasApi())
        {
            builder.Services.AddOpenApi();
            builder.AddApiRateLimit();
        }

        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, TodoJson.Default));
        return builder;
    }

    /// <summary>Every transport the app can use, by URL scheme (<c>embedded://</c> and <c>memory://</c> come with the bus).</summary>
    public static IServiceCollection AddTransports(IServiceCollection services) => services.AddNatsTransport().AddRedisTransport().AddRabbitMqTransport();

    public static WebApplication UseTodoEndpoints(this WebApplication app, Role role)
    {
        // Client mistakes Kestrel finds (body too large, bad framing) keep their 4xx; only our own faults are 500.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.UseSecurityHeaders();
        app.MapDefaultEndpoints();

        if (role.HasApi())
        {
            app.UseRateLimiter();
            app.MapOpenApi();
            app.MapScalarApiReference();
            app.MapTodoApi();
        }

        if (role.HasWeb())
        {
            app.UseAuthentication();
            app.UseAuthorization();
            app.UseAntiforgery();
            app.MapStaticAssets();
            app.MapAdminEndpoints();
            app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        }
        else
        {
            app.MapGet("/", () => Results.Redirect(role.HasApi() ? "/scalar" : "/healthz")).ExcludeFromDescription();
        }

        return app;
    }

    private static bool IsInProcess(string url) =>
        url.StartsWith("embedded:", StringComparison.OrdinalIgnoreCase) || url.StartsWith("memory:", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A configuration a role cannot run with; its message is the one line the user sees.</summary>
public sealed class RoleConfigurationException(string message) : Exception(message);
