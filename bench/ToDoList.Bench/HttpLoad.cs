using System.Diagnostics;
using System.Net.Http.Headers;

namespace ToDoList.Bench;

/// <summary>What a closed-loop HTTP load saw: answers, failures and the latency of each answer.</summary>
internal sealed record HttpLoadResult(int Clients, TimeSpan Elapsed, long Succeeded, long Rejected, long TimedOut, long Failed, LatencyHistogram Latency)
{
    public long Errors => Rejected + TimedOut + Failed;

    public long Attempts => Succeeded + Errors;

    /// <summary>Requests answered 2xx per second of the run.</summary>
    public double SucceededPerSecond => Succeeded / Elapsed.TotalSeconds;

    public double ErrorPercent => Attempts == 0 ? 0 : 100.0 * Errors / Attempts;

    public string Summary =>
        $"{SucceededPerSecond:N0} req/s 2xx, p50 {Latency.PercentileMs(0.50):F1} ms, p99 {Latency.PercentileMs(0.99):F1} ms, p999 {Latency.PercentileMs(0.999):F1} ms, "
        + $"errors {Errors:N0} ({ErrorPercent:F1} %: {Rejected:N0} non-2xx, {TimedOut:N0} timeouts, {Failed:N0} connection failures)";
}

/// <summary>
/// A cheap closed-loop load generator (it shares the cores with the servers): each client posts the same pre-built
/// body, waits for the answer, posts again, until the duration is over. One connection per client, no body read
/// beyond what the handler drains, latencies counted into a preallocated histogram.
/// </summary>
internal static class HttpLoad
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>
    /// Posts <paramref name="body"/> to <paramref name="url"/> from <paramref name="clients"/> clients for <paramref name="duration"/>.
    /// A request not answered within <paramref name="timeout"/> is a timeout (its latency counted as the timeout);
    /// a refused or broken connection is a failure (no latency).
    /// </summary>
    public static async Task<HttpLoadResult> PostAsync(Uri url, byte[] body, int clients, TimeSpan duration, TimeSpan timeout)
    {
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = clients,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        using var http = new HttpMessageInvoker(handler);
        var latency = new LatencyHistogram();
        long succeeded = 0, rejected = 0, timedOut = 0, failed = 0;
        var clock = Stopwatch.StartNew();

        async Task ClientAsync()
        {
            var deadline = new CancellationTokenSource();
            try
            {
                while (clock.Elapsed < duration)
                {
                    var start = Stopwatch.GetTimestamp();
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = Json;
                    deadline.CancelAfter(timeout);
                    try
                    {
                        using var response = await http.SendAsync(request, deadline.Token);
                        latency.Record(Stopwatch.GetTimestamp() - start);
                        Interlocked.Increment(ref response.IsSuccessStatusCode ? ref succeeded : ref rejected);
                    }
                    catch (OperationCanceledException) when (deadline.IsCancellationRequested)
                    {
                        latency.Record(Stopwatch.GetTimestamp() - start);
                        Interlocked.Increment(ref timedOut);
                    }
                    catch (HttpRequestException)
                    {
                        Interlocked.Increment(ref failed);
                    }

                    if (!deadline.TryReset())
                    {
                        deadline.Dispose();
                        deadline = new CancellationTokenSource();
                    }
                }
            }
            finally
            {
                deadline.Dispose();
            }
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(ClientAsync)));
        return new HttpLoadResult(clients, clock.Elapsed, succeeded, rejected, timedOut, failed, latency);
    }
}

/// <summary>Latencies from 1 µs to ~100 s in buckets 1 % wide: fixed memory, safe to record from many clients at once.</summary>
internal sealed class LatencyHistogram
{
    private static readonly double LogStep = Math.Log(1.01);
    private readonly long[] _counts = new long[1900];

    public long Count => _counts.Sum();

    public void Record(long stopwatchTicks)
    {
        var micros = Math.Max(1.0, stopwatchTicks * 1_000_000.0 / Stopwatch.Frequency);
        Interlocked.Increment(ref _counts[Math.Min(_counts.Length - 1, (int)(Math.Log(micros) / LogStep))]);
    }

    /// <summary>The latency in ms under which <paramref name="fraction"/> of the recorded ones fall (a bucket's upper edge); 0 when empty.</summary>
    public double PercentileMs(double fraction)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(fraction * total);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Exp((i + 1) * LogStep) / 1000;
            }
        }

        return Math.Exp(_counts.Length * LogStep) / 1000;
    }
}
