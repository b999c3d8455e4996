using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ToDoList.Messaging;
using ToDoList.Messaging.Diagnostics;

namespace ToDoList.ServiceDefaults;

/// <summary>What every role shares: telemetry, health checks, and their endpoints.</summary>
public static class ServiceDefaultsExtensions
{
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, string serviceName)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics
                .AddMeter(MessagingTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddPrometheusExporter());

        // Traces and OTLP only when the standard variable names a collector: spans nobody exports cost a tenth of a
        // request's CPU (recorded for every POST, message and query).
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry
                .WithTracing(tracing => tracing
                    .AddSource(MessagingTelemetry.Name)
                    .AddAspNetCoreInstrumentation(options => options.Filter = context =>
                        !context.Request.Path.StartsWithSegments("/healthz") && !context.Request.Path.StartsWithSegments("/metrics"))
                    .AddEntityFrameworkCoreInstrumentation())
                .UseOtlpExporter();
        }

        builder.Services.AddHealthChecks().AddCheck<MessageQueueHealthCheck>("message-queue");
        return builder;
    }

    /// <summary><c>/healthz</c>: liveness and readiness of the queue and the database; <c>/metrics</c>: Prometheus text.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["status"] = report.Status.ToString(),
            ["checks"] = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString()),
        }));
    }
}

internal sealed class MessageQueueHealthCheck(MessageBus bus) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(bus.IsConnected
            ? HealthCheckResult.Healthy(bus.Transport.Name)
            : HealthCheckResult.Unhealthy($"{bus.Transport.Name} is not connected."));
}
