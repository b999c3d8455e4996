using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.RabbitMq;

/// <summary>
/// The RabbitMQ transport (<c>amqp://</c>, <c>amqps://</c>) on the official client's async API. Every
/// message goes to one durable topic exchange with its subject as routing key; a plain subscriber
/// has an exclusive server-named queue, a queue group a shared auto-delete queue, a durable group a
/// durable queue named after it. Two connections, both recovering with their topology: one publishes
/// (with confirms), one consumes, so that a broker blocking publishers (memory alarm) never blocks an
/// acknowledgement.
/// </summary>
public sealed partial class RabbitMqTransport : ITransport
{
    private readonly TransportUrl _url;
    private readonly RabbitMqTransportOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly SemaphoreSlim _publishChannelGate = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<QueueSubscription, byte> _subscriptions = new();
    private IConnection? _publisher;
    private IConnection? _consumer;
    private IChannel? _publishChannel;
    private IChannel? _replyChannel;
    private int _disposed;

    public RabbitMqTransport(TransportUrl url, RabbitMqTransportOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        if (url.Scheme is not ("amqp" or "amqps"))
        {
            throw new TransportException($"The RabbitMQ transport serves amqp:// and amqps:// URLs, not '{url}'.");
        }

        _url = url;
        _options = options ?? new RabbitMqTransportOptions();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<RabbitMqTransport>();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary><c>amqp</c> or <c>amqps</c>, as the URL says.</summary>
    public string Name => _url.Scheme;

    public bool IsConnected => _publisher is { IsOpen: true } && _consumer is { IsOpen: true };

    /// <summary>The URL without credentials, as logs and errors show it.</summary>
    internal string SafeUrl
    {
        get
        {
            var uri = _url.Uri;
            var port = uri.IsDefaultPort || uri.Port < 0 ? (Name == "amqps" ? 5671 : 5672) : uri.Port;
            return $"{Name}://{uri.Host}:{port}{(uri.AbsolutePath.Length > 1 ? uri.AbsolutePath : "/")}";
        }
    }

    internal TimeProvider Time => _time;

    internal RabbitMqTransportOptions Options => _options;

    internal ILogger Logger => _logger;

    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_publisher is not null)
            {
                return;
            }

            var factory = CreateFactory(_url, _options);
            IConnection? publisher = null;
            IConnection? consumer = null;
            try
            {
                publisher = await OpenAsync(factory, _options.Name, cancellationToken).ConfigureAwait(false);
                consumer = await OpenAsync(factory, _options.Name + " subscriptions", cancellationToken).ConfigureAwait(false);
                await using (var channel = await consumer.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    await channel.ExchangeDeclareAsync(_options.Exchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
                    await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
                }

                var version = publisher.ServerProperties?.TryGetValue("version", out var v) == true && v is byte[] bytes ? System.Text.Encoding.UTF8.GetString(bytes) : "?";
                Log.Connected(_logger, _options.Name, SafeUrl, version, _options.Exchange);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                await CloseQuietlyAsync(consumer).ConfigureAwait(false);
                await CloseQuietlyAsync(publisher).ConfigureAwait(false);
                if (e is TransportException)
                {
                    throw;
                }

                throw new TransportException($"Could not connect to RabbitMQ at {SafeUrl}{UserPart()}: {Redacted(Reasons(e))}", e);
            }

            _consumer = consumer;
            Volatile.Write(ref _publisher, publisher);
        }
        finally
        {
            _connectGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var subscription in _subscriptions.Keys)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var channel in new[] { _publishChannel, _replyChannel }.OfType<IChannel>())
        {
            try
            {
                await channel.CloseAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Closing anyway.
            }

            channel.Dispose();
        }

        await CloseQuietlyAsync(_consumer).ConfigureAwait(false);
        await CloseQuietlyAsync(_publisher).ConfigureAwait(false);
    }

    internal void Forget(QueueSubscription subscription) => _subscriptions.TryRemove(subscription, out _);

    internal IConnection ConsumerConnection =>
        _consumer ?? throw new InvalidOperationException("The RabbitMQ transport is not connected: call ConnectAsync first.");

    private IConnection PublisherConnection =>
        Volatile.Read(ref _publisher) ?? throw new InvalidOperationException("The RabbitMQ transport is not connected: call ConnectAsync first.");

    /// <summary>
    /// The factory takes the URL as configured (credentials, vhost, TLS for amqps); the factory
    /// itself is never logged, and errors name <see cref="SafeUrl"/> only.
    /// </summary>
    internal static ConnectionFactory CreateFactory(TransportUrl url, RabbitMqTransportOptions options)
    {
        var factory = new ConnectionFactory
        {
            Uri = url.Uri,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = options.RecoveryInterval,
            RequestedHeartbeat = TimeSpan.FromSeconds(20),
            ContinuationTimeout = TimeSpan.FromSeconds(20),
        };
        if (url.Scheme == "amqps")
        {
            // TLS, checking the broker's certificate against the host the URL names.
            factory.Ssl.Enabled = true;
            factory.Ssl.ServerName = url.Uri.Host;
            if (options.CaFile is { } caFile)
            {
                factory.Ssl.CertificateValidationCallback = PrivateCa.Validator(caFile);
            }
        }

        return factory;
    }

    private async Task<IConnection> OpenAsync(ConnectionFactory factory, string name, CancellationToken cancellationToken)
    {
        factory.ClientProvidedName = name;
        var connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
        connection.ConnectionShutdownAsync += (_, e) =>
        {
            if (_disposed == 0 && e.Initiator != ShutdownInitiator.Application)
            {
                Log.Disconnected(_logger, name, SafeUrl, $"{e.ReplyCode} {e.ReplyText}");
            }

            return Task.CompletedTask;
        };
        connection.RecoverySucceededAsync += (_, _) =>
        {
            Log.Recovered(_logger, name, SafeUrl);
            return Task.CompletedTask;
        };
        connection.ConnectionRecoveryErrorAsync += (_, e) =>
        {
            Log.RecoveryFailed(_logger, name, SafeUrl, e.Exception);
            return Task.CompletedTask;
        };
        connection.ConnectionBlockedAsync += (_, e) =>
        {
            Log.Blocked(_logger, name, e.Reason);
            return Task.CompletedTask;
        };
        return connection;
    }

    private string UserPart()
    {
        var userInfo = _url.Uri.UserInfo;
        var colon = userInfo.IndexOf(':');
        var user = colon < 0 ? userInfo : userInfo[..colon];
        return user.Length > 0 ? $" as user '{Uri.UnescapeDataString(user)}'" : " as user 'guest'";
    }

    /// <summary>Whatever a client error says, the password does not appear in ours.</summary>
    internal string Redacted(string text)
    {
        var userInfo = _url.Uri.UserInfo;
        var colon = userInfo.IndexOf(':');
        if (colon < 0 || colon == userInfo.Length - 1)
        {
            return text;
        }

        var password = userInfo[(colon + 1)..];
        return text.Replace(password, "***", StringComparison.Ordinal).Replace(Uri.UnescapeDataString(password), "***", StringComparison.Ordinal);
    }

    private static async Task CloseQuietlyAsync(IConnection? connection)
    {
        if (connection is null)
        {
            return;
        }

        try
        {
            await connection.CloseAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Closing anyway: the broker drops what the connection held.
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    internal static string Reasons(Exception exception)
    {
        var reasons = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (!reasons.Contains(e.Message))
            {
                reasons.Add(e.Message);
            }
        }

        return string.Join(": ", reasons);
    }
}
