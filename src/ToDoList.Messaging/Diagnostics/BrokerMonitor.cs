using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ToDoList.Messaging.Diagnostics;

/// <summary>
/// Reads the broker's view (<see cref="MessageBus.InspectBrokerAsync"/>) over and over: every
/// <see cref="WatchedInterval"/> while someone watches (the diagnostics page), else every <see cref="IdleInterval"/>
/// for the <c>messaging.consumer.lag</c> gauge. Watchers hear each new view by <see cref="Watch"/>.
/// </summary>
public sealed partial class BrokerMonitor(MessageBus bus, ILogger<BrokerMonitor> logger) : BackgroundService
{
    public static readonly TimeSpan WatchedInterval = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan IdleInterval = TimeSpan.FromSeconds(15);

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private Action<BrokerView>[] _watchers = [];

    /// <summary>The last view read; null until the first.</summary>
    public BrokerView? Current { get; private set; }

    /// <summary>Hears every new view, the first soon after; dispose to stop.</summary>
    public IDisposable Watch(Action<BrokerView> watcher)
    {
        lock (_gate)
        {
            _watchers = [.. _watchers, watcher];
        }

        // Someone looks now: read at once rather than at the end of an idle wait.
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already woken.
            }
        }

        return new Watcher(this, watcher);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            if (bus.IsConnected)
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(10));
                    var view = await bus.InspectBrokerAsync(timeout.Token).ConfigureAwait(false);
                    Current = view;
                    foreach (var watcher in Volatile.Read(ref _watchers))
                    {
                        watcher(view);
                    }
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogInspectFailed(logger, e);
                }
            }

            try
            {
                // Soon after start (the bus may still be connecting), then as often as someone watches.
                var wait = Current is null ? TimeSpan.FromSeconds(1) : Volatile.Read(ref _watchers).Length > 0 ? WatchedInterval : IdleInterval;
                await _wake.WaitAsync(wait, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    [LoggerMessage(30, LogLevel.Warning, "Could not read what the broker sees; trying again")]
    private static partial void LogInspectFailed(ILogger logger, Exception exception);

    private sealed class Watcher(BrokerMonitor monitor, Action<BrokerView> watcher) : IDisposable
    {
        public void Dispose()
        {
            lock (monitor._gate)
            {
                monitor._watchers = [.. monitor._watchers.Where(w => w != watcher)];
            }
        }
    }
}
