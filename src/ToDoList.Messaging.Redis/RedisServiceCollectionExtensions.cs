using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ToDoList.Messaging.Hosting;

namespace ToDoList.Messaging.Redis;

public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// Makes <c>redis://[[user]:pass@]host:6379</c> and <c>rediss://…</c> (TLS) known to <c>AddMessaging</c>.
    /// The client is named after the bus's CloudEvents source.
    /// </summary>
    public static IServiceCollection AddRedisTransport(this IServiceCollection services, Func<IServiceProvider, RedisTransportOptions>? options = null)
    {
        Transport.ITransport Create(TransportUrl url, IServiceProvider provider)
        {
            var messaging = provider.GetService<MessagingOptions>() ?? new MessagingOptions();
            var source = messaging.Source.Trim('/');
            var configured = options?.Invoke(provider) ?? new RedisTransportOptions { Name = source.Length > 0 ? source : "todo" };
            return new RedisTransport(url, configured with { CaFile = configured.CaFile ?? messaging.CaFile }, provider.GetService<ILoggerFactory>());
        }

        services.AddTransport("redis", Create);
        services.AddTransport("rediss", Create);
        return services;
    }
}
