using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ToDoList.Messaging.Hosting;

namespace ToDoList.Messaging.RabbitMq;

public static class RabbitMqServiceCollectionExtensions
{
    /// <summary>
    /// Makes <c>amqp://user:pass@host:5672/vhost</c> and <c>amqps://…</c> known to <c>AddMessaging</c>.
    /// The connections are named after the bus's CloudEvents source.
    /// </summary>
    public static IServiceCollection AddRabbitMqTransport(this IServiceCollection services, Func<IServiceProvider, RabbitMqTransportOptions>? options = null)
    {
        Transport.ITransport Create(TransportUrl url, IServiceProvider provider)
        {
            var messaging = provider.GetService<MessagingOptions>() ?? new MessagingOptions();
            var source = messaging.Source.Trim('/');
            var configured = options?.Invoke(provider) ?? new RabbitMqTransportOptions { Name = source.Length > 0 ? source : "todo" };
            return new RabbitMqTransport(url, configured with { MonitorUrl = configured.MonitorUrl ?? messaging.MonitorUrl, CaFile = configured.CaFile ?? messaging.CaFile }, provider.GetService<ILoggerFactory>(), provider.GetService<TimeProvider>());
        }

        services.AddTransport("amqp", Create);
        services.AddTransport("amqps", Create);
        return services;
    }
}
