using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ToDoList.Messaging.Hosting;

namespace ToDoList.Messaging.Nats;

public static class NatsServiceCollectionExtensions
{
    /// <summary>
    /// Makes <c>nats://[user:pass@]host:4222</c> and <c>tls://…</c> known to <c>AddMessaging</c>. The connection
    /// is named after the bus's CloudEvents source, and the bus's payload limit is checked against the server's.
    /// </summary>
    public static IServiceCollection AddNatsTransport(this IServiceCollection services, Func<IServiceProvider, NatsTransportOptions>? options = null)
    {
        Transport.ITransport Create(TransportUrl url, IServiceProvider provider)
        {
            var messaging = provider.GetService<MessagingOptions>() ?? new MessagingOptions();
            var source = messaging.Source.Trim('/');
            var configured = options?.Invoke(provider) ?? new NatsTransportOptions { Name = source.Length > 0 ? source : "todo" };
            return new NatsTransport(
                url,
                configured with { MaxPayloadBytes = messaging.MaxPayloadBytes, MonitorUrl = configured.MonitorUrl ?? messaging.MonitorUrl, CaFile = configured.CaFile ?? messaging.CaFile },
                provider.GetService<ILoggerFactory>(),
                provider.GetService<TimeProvider>());
        }

        services.AddTransport("nats", Create);
        services.AddTransport("tls", Create);
        return services;
    }
}
