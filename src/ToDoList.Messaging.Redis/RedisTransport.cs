using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Redis;

/// <summary>
/// The Redis transport (<c>redis://</c>, <c>rediss://</c>) on StackExchange.Redis. Subjects are pub/sub
/// channels (wildcards are patterns, filtered to NATS semantics); durable groups are Redis Streams
/// consumer groups, one stream per subject pattern, written by the publish script of every publisher.
/// One multiplexer per transport; stream reads never block (the client multiplexes one connection),
/// members are woken by a pub/sub notice and look again at least every <see cref="RedisTransportOptions.DurablePollInterval"/>.
/// </summary>
public sealed partial class RedisTransport : ITransport
{
    private readonly TransportUrl _url;
    private readonly RedisTransportOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly ConcurrentDictionary<IAsyncDisposable, byte> _subscriptions = new();
    private readonly RedisValue _noResponders;
    private ConnectionMultiplexer? _connection;
    private int _disposed;

    public RedisTransport(TransportUrl url, RedisTransportOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        if (url.Scheme is not ("redis" or "rediss"))
        {
            throw new TransportException($"The Redis transport serves redis:// and rediss:// URLs, not '{url}'.");
        }

        _url = url;
        _options = options ?? new RedisTransportOptions();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<RedisTransport>();
        var status = new MessageHeaders { [MessagingHeaders.Status] = MessagingHeaders.NoRespondersStatus };
        _maxStreamLength = _options.MaxStreamLength;
        _streamPrefix = StreamPrefix;
        _wakePrefix = WakePrefix;
        _noResponders = Envelope.Encode(new Message("_", ReadOnlyMemory<byte>.Empty, status)).ToArray();
    }

    /// <summary><c>redis</c> or <c>rediss</c>, as the URL says.</summary>
    public string Name => _url.Scheme;

    public bool IsConnected => _connection is { IsConnected: true };

    /// <summary>The URL without credentials, as logs and errors show it.</summary>
    internal string SafeUrl => $"{_url.Scheme}://{Host}:{Port}";

    internal RedisTransportOptions Options => _options;

    internal ILogger Logger => _logger;

    internal IDatabase Database => (_connection ?? throw NotConnected()).GetDatabase();

    internal ISubscriber Subscriber => (_connection ?? throw NotConnected()).GetSubscriber();

    internal RedisKey GroupsKey => _options.KeyPrefix + "groups";

    internal RedisKey PatternsKey => _options.KeyPrefix + "patterns";

    internal string StreamPrefix => _options.KeyPrefix + "stream:";

    /// <summary>Wake-up notices: a space makes them names no subject can have, so no wildcard subscriber sees them.</summary>
    internal string WakePrefix => _options.KeyPrefix + "wake ";

    private string Host => _url.Uri.Host.Contains(':') ? $"[{_url.Uri.Host.Trim('[', ']')}]" : _url.Uri.Host;

    private int Port => _url.Uri.IsDefaultPort || _url.Uri.Port < 0 ? 6379 : _url.Uri.Port;

    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connection is not null)
            {
                return;
            }

            var (user, password) = Credentials();
            var config = new ConfigurationOptions
            {
                EndPoints = { { _url.Uri.Host.Trim('[', ']'), Port } },
                User = user,
                Password = password,
                Ssl = _url.Scheme == "rediss",
                ClientName = _options.Name,
                // Fail the first connect with a clear error; after that the client reconnects on its own, forever.
                AbortOnConnectFail = true,
                ConnectTimeout = (int)_options.ConnectTimeout.TotalMilliseconds,
                ConnectRetry = 1,
                // The diagnostics read CLIENT LIST; the server's ACL, not this client-side switch, says who may.
                AllowAdmin = true,
            };
            if (config.Ssl && _options.CaFile is { } caFile)
            {
                config.CertificateValidation += PrivateCa.Validator(caFile);
            }

            ConnectionMultiplexer connection;
            try
            {
                connection = await ConnectionMultiplexer.ConnectAsync(config).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The client's messages may quote its configuration: never its exception, only scrubbed text.
                throw new TransportException($"Could not connect to Redis at {SafeUrl}: {Scrub(Reasons(e))}");
            }

            Watch(connection);
            _connection = connection;
            Log.Connected(_logger, _options.Name, SafeUrl);
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

        if (_connection is not null)
        {
            await _connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            _connection.Dispose();
        }
    }

    internal void Track(IAsyncDisposable subscription) => _subscriptions[subscription] = 0;

    internal void Forget(IAsyncDisposable subscription) => _subscriptions.TryRemove(subscription, out _);

    /// <summary>Removes the password (plain and URL-escaped) from text a client library wrote.</summary>
    internal string Scrub(string text)
    {
        var (_, password) = Credentials();
        if (string.IsNullOrEmpty(password))
        {
            return text;
        }

        text = text.Replace(password, "***", StringComparison.Ordinal);
        var escaped = Uri.EscapeDataString(password);
        return escaped == password ? text : text.Replace(escaped, "***", StringComparison.Ordinal);
    }

    internal TransportException Failure(string what, Exception e) => new($"{what} at Redis {SafeUrl}: {Scrub(Reasons(e))}");

    private TransportException NotConnected() => new($"The Redis transport to {SafeUrl} is not connected: call ConnectAsync first.");

    /// <summary><c>redis://:password@host</c> (AUTH password), <c>redis://user:password@host</c> (ACL user).</summary>
    private (string? User, string? Password) Credentials()
    {
        var userInfo = _url.Uri.UserInfo;
        if (userInfo.Length == 0)
        {
            return (null, null);
        }

        var colon = userInfo.IndexOf(':');
        if (colon < 0)
        {
            return (null, Uri.UnescapeDataString(userInfo));
        }

        var user = Uri.UnescapeDataString(userInfo[..colon]);
        return (user.Length > 0 ? user : null, Uri.UnescapeDataString(userInfo[(colon + 1)..]));
    }

    private void Watch(ConnectionMultiplexer connection)
    {
        connection.ConnectionFailed += (_, e) =>
        {
            if (_disposed == 0)
            {
                Log.Disconnected(_logger, _options.Name, SafeUrl, e.FailureType.ToString());
            }
        };
        connection.ConnectionRestored += (_, _) =>
        {
            if (_disposed == 0)
            {
                Log.Reconnected(_logger, _options.Name, SafeUrl);
            }
        };
    }

    private static string Reasons(Exception exception)
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
