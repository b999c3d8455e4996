using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using ToDoList.Messaging.Transport;

namespace ToDoList.Messaging.Nats;

/// <summary>
/// The NATS transport (<c>nats://</c>, <c>tls://</c>) on the official client. Subjects, queue
/// groups, headers and reply subjects are NATS's own; durable groups are JetStream pull consumers
/// on a stream per first subject token. Two connections: one publishes (and carries JetStream,
/// durable consumers and reply inboxes), one carries plain and queue-group subscriptions, so that a
/// subscriber whose buffer is full stalls only its own connection, never an acknowledgement.
/// </summary>
public sealed partial class NatsTransport : ITransport
{
    private readonly TransportUrl _url;
    private readonly NatsTransportOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly ConcurrentDictionary<DurableSubscription, byte> _durables = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly PermissionViolations _permissionViolations = new();
    private NatsConnection? _publisher;
    private NatsConnection? _subscriber;
    private NatsJSContext? _jetStream;
    private StreamDirectory? _streams;
    private Task _advisories = Task.CompletedTask;
    private int _disposed;

    public NatsTransport(TransportUrl url, NatsTransportOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        if (url.Scheme is not ("nats" or "tls"))
        {
            throw new TransportException($"The NATS transport serves nats:// and tls:// URLs, not '{url}'.");
        }

        _url = url;
        _options = options ?? new NatsTransportOptions();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<NatsTransport>();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary><c>nats</c> or <c>tls</c>, as the URL says.</summary>
    public string Name => _url.Scheme;

    public bool IsConnected =>
        _publisher is { ConnectionState: NatsConnectionState.Open } && _subscriber is { ConnectionState: NatsConnectionState.Open };

    /// <summary>The URL without credentials, as logs and errors show it.</summary>
    internal string SafeUrl => ServerUrl(_url);

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

            var opts = CreateOpts(_url, _options, _loggerFactory);
            var publisher = new NatsConnection(opts);
            var subscriber = new NatsConnection(opts with { Name = opts.Name + " subscriptions" });
            try
            {
                await OpenAsync(publisher, carriesCoreSubscriptions: false, cancellationToken).ConfigureAwait(false);
                CheckMaxPayload(publisher.ServerInfo!);
                await OpenAsync(subscriber, carriesCoreSubscriptions: true, cancellationToken).ConfigureAwait(false);
                var info = publisher.ServerInfo!;
                _jetStream = new NatsJSContext(publisher, new NatsJSOpts(opts, requestTimeout: _options.PublishAckTimeout));
                _streams = new StreamDirectory(_jetStream, info.JetStreamAvailable, _options.StreamLookupTtl, _options.StreamMaxAge, _time);
                if (info.JetStreamAvailable)
                {
                    var advisories = await publisher.SubscribeCoreAsync("$JS.EVENT.ADVISORY.STREAM.>", serializer: NatsMessages.Raw, cancellationToken: cancellationToken).ConfigureAwait(false);
                    _advisories = FollowStreamAdvisoriesAsync(advisories, opts.Name);
                }

                Log.Connected(_logger, opts.Name, SafeUrl, info.Version, info.MaxPayload, info.JetStreamAvailable);
            }
            catch
            {
                await subscriber.DisposeAsync().ConfigureAwait(false);
                await publisher.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            _subscriber = subscriber;
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

        _disposing.Cancel();
        foreach (var durable in _durables.Keys)
        {
            await durable.DisposeAsync().ConfigureAwait(false);
        }

        if (_subscriber is not null)
        {
            await _subscriber.DisposeAsync().ConfigureAwait(false);
        }

        if (_publisher is not null)
        {
            await _publisher.DisposeAsync().ConfigureAwait(false);
        }

        await _advisories.ConfigureAwait(false);
        _disposing.Dispose();
    }

    /// <summary>Completes when this transport next hears that streams changed (advisory, reconnect, a stream it made).</summary>
    internal Task NextStreamChange => _streams?.NextChange ?? throw new InvalidOperationException("Not connected.");

    internal void Forget(DurableSubscription subscription) => _durables.TryRemove(subscription, out _);

    /// <summary>Client options: the URL without credentials (they go in the auth options, never to a log), TLS for <c>tls://</c>, never a silent drop, reconnect forever.</summary>
    internal static NatsOpts CreateOpts(TransportUrl url, NatsTransportOptions options, ILoggerFactory loggerFactory)
    {
        var auth = NatsAuthOpts.Default;
        var userInfo = url.Uri.UserInfo;
        if (userInfo.Length > 0)
        {
            var colon = userInfo.IndexOf(':');
            auth = colon < 0
                ? auth with { Token = Uri.UnescapeDataString(userInfo) }
                : auth with { Username = Uri.UnescapeDataString(userInfo[..colon]), Password = Uri.UnescapeDataString(userInfo[(colon + 1)..]) };
        }

        return NatsOpts.Default with
        {
            Url = ServerUrl(url),
            Name = options.Name,
            AuthOpts = auth,
            TlsOpts = url.Scheme == "tls" ? NatsTlsOpts.Default with { Mode = TlsMode.Require, CaFile = options.CaFile } : NatsTlsOpts.Default,
            LoggerFactory = loggerFactory,
            // A full subscriber buffer makes the client wait: the default drops messages silently.
            SubPendingChannelFullMode = BoundedChannelFullMode.Wait,
            HeaderEncoding = Encoding.UTF8,
            MaxReconnectRetry = -1,
            ReconnectWaitMin = options.ReconnectWaitMin,
            ReconnectWaitMax = options.ReconnectWaitMax,
            ReconnectJitter = options.ReconnectWaitMin,
            RequestTimeout = options.PublishAckTimeout,
        };
    }

    private static string ServerUrl(TransportUrl url)
    {
        var port = url.Uri.IsDefaultPort || url.Uri.Port < 0 ? 4222 : url.Uri.Port;
        var host = url.Uri.Host.Contains(':') ? $"[{url.Uri.Host.Trim('[', ']')}]" : url.Uri.Host;
        return $"{url.Scheme}://{host}:{port}";
    }

    private async Task OpenAsync(NatsConnection connection, bool carriesCoreSubscriptions, CancellationToken cancellationToken)
    {
        Watch(connection, carriesCoreSubscriptions);
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new TransportException($"Could not connect to NATS at {SafeUrl}: {Reasons(e)}", e);
        }
    }

    /// <summary>The bus allows <see cref="NatsTransportOptions.MaxPayloadBytes"/> of data plus headers: a server that takes less would refuse them at publish.</summary>
    private void CheckMaxPayload(INatsServerInfo info)
    {
        var needed = (long)_options.MaxPayloadBytes + _options.MaxHeaderBytes;
        if (info.MaxPayload < needed)
        {
            throw new TransportException(
                $"The NATS server at {SafeUrl} accepts messages up to {info.MaxPayload} bytes (max_payload), but the bus allows {_options.MaxPayloadBytes} bytes of data plus {_options.MaxHeaderBytes} of headers: " +
                $"set max_payload to at least {needed} (for example 'max_payload: 2MB') in the server's configuration.");
        }
    }

    private void Watch(NatsConnection connection, bool carriesCoreSubscriptions)
    {
        var name = connection.Opts.Name;
        var opened = 0;
        connection.ConnectionOpened += (_, _) =>
        {
            if (Interlocked.Exchange(ref opened, 1) == 1)
            {
                // Streams may have come or gone while the advisories could not reach us.
                _streams?.Forget();
                Log.Reconnected(_logger, name, SafeUrl);
            }

            return ValueTask.CompletedTask;
        };
        connection.ConnectionDisconnected += (_, _) =>
        {
            if (_disposed == 0 && carriesCoreSubscriptions)
            {
                Log.SubscriberDisconnected(_logger, name, SafeUrl);
            }
            else if (_disposed == 0)
            {
                Log.Disconnected(_logger, name, SafeUrl);
            }

            return ValueTask.CompletedTask;
        };
        connection.ReconnectFailed += (_, _) =>
        {
            Log.ReconnectFailed(_logger, name, SafeUrl);
            return ValueTask.CompletedTask;
        };
        connection.MessageDropped += (_, e) =>
        {
            Log.MessageDropped(_logger, name, e.Subject, e.Pending);
            return ValueTask.CompletedTask;
        };
        connection.SlowConsumerDetected += (_, e) =>
        {
            Log.SlowConsumer(_logger, name, e.Subscription.Subject);
            return ValueTask.CompletedTask;
        };
        connection.ServerError += (_, e) =>
        {
            if (_permissionViolations.Record(e.Error))
            {
                Log.PermissionViolation(_logger, name, e.Error);
                return ValueTask.CompletedTask;
            }

            Log.ServerError(_logger, name, e.Error);
            return ValueTask.CompletedTask;
        };
        connection.LameDuckModeActivated += (_, _) =>
        {
            Log.LameDuck(_logger, name, SafeUrl);
            return ValueTask.CompletedTask;
        };
    }

    private async Task FollowStreamAdvisoriesAsync(INatsSub<ReadOnlyMemory<byte>> advisories, string connection)
    {
        Exception? error = null;
        try
        {
            await foreach (var _ in advisories.Msgs.ReadAllAsync(_disposing.Token).ConfigureAwait(false))
            {
                // A stream was created, changed or deleted somewhere: which subjects streams capture may have changed.
                _streams!.Forget();
            }
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            error = e;
        }

        if (_disposed == 0)
        {
            Log.AdvisoriesEnded(_logger, connection, _options.StreamLookupTtl, error);
        }
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
