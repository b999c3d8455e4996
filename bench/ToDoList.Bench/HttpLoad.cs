using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ToDoList.Bench;

/// <summary>What a closed-loop HTTP load saw: answers, failures, latency percentiles, and the CPU the load generator took.</summary>
internal sealed record HttpLoadResult(
    int Clients, TimeSpan Elapsed, long Succeeded, long Rejected, long TimedOut, long Failed, double P50Ms, double P99Ms, double P999Ms, TimeSpan GeneratorCpu)
{
    public long Errors => Rejected + TimedOut + Failed;

    public long Attempts => Succeeded + Errors;

    /// <summary>Requests answered 2xx per second of the run.</summary>
    public double SucceededPerSecond => Succeeded / Elapsed.TotalSeconds;

    public double ErrorPercent => Attempts == 0 ? 0 : 100.0 * Errors / Attempts;

    public TimeSpan GeneratorCpuPerRequest => Attempts == 0 ? TimeSpan.Zero : GeneratorCpu / Attempts;

    public string Summary =>
        $"{SucceededPerSecond:N0} req/s 2xx, p50 {P50Ms:F1} ms, p99 {P99Ms:F1} ms, p999 {P999Ms:F1} ms, "
        + $"errors {Errors:N0} ({ErrorPercent:F1} %: {Rejected:N0} non-2xx, {TimedOut:N0} timeouts, {Failed:N0} connection failures)";
}

/// <summary>
/// The load comes from <c>wrk</c>, a closed-loop generator in C: it shares the two cores with the servers, and took
/// under half the CPU per request of a .NET client here (~18 against ~39 µs), so more of the machine measures the
/// servers. Each of the connections (the clients) posts the same body, waits for the answer, and posts again.
/// </summary>
internal static class HttpLoad
{
    /// <summary>
    /// Posts <paramref name="body"/> (JSON) to <paramref name="url"/> from <paramref name="clients"/> connections for
    /// <paramref name="duration"/> (whole seconds, at least one). A request not answered within <paramref name="timeout"/>
    /// is a timeout (wrk records no latency for it); a refused or broken connection is a failure.
    /// </summary>
    public static async Task<HttpLoadResult> PostAsync(Uri url, byte[] body, int clients, TimeSpan duration, TimeSpan timeout)
    {
        var script = Path.Combine(Path.GetTempPath(), $"todo-bench-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, Script(body));
        try
        {
            var seconds = Math.Max(1, (int)Math.Round(duration.TotalSeconds));
            // bash's `times` prints its children's CPU last: wrk's own, which the bench cannot read once wrk has exited.
            var start = new ProcessStartInfo("/bin/bash")
            {
                ArgumentList =
                {
                    "-c", "wrk \"$@\"; status=$?; times; exit $status", "wrk",
                    $"-t{Math.Min(2, clients)}", $"-c{clients}", $"-d{seconds}s", $"--timeout={Math.Max(1, (int)timeout.TotalSeconds)}s", "-s", script, url.ToString(),
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var wrk = Process.Start(start)!;
            var output = wrk.StandardOutput.ReadToEndAsync();
            var error = wrk.StandardError.ReadToEndAsync();
            await wrk.WaitForExitAsync();
            var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var result = lines.FirstOrDefault(l => l.StartsWith("WRK ", StringComparison.Ordinal));
            if (wrk.ExitCode != 0 || result is null)
            {
                throw new InvalidOperationException(
                    $"wrk failed (exit {wrk.ExitCode}): {await error}{string.Join('\n', lines)}\nThe HTTP scenarios need wrk: apt-get install wrk");
            }

            var f = result.Split(' ')[1..].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var (requests, rejected) = ((long)f[1], (long)f[2]);
            return new HttpLoadResult(
                clients, TimeSpan.FromMicroseconds(f[0]), requests - rejected, rejected, TimedOut: (long)f[3], Failed: (long)f[4],
                P50Ms: f[5] / 1000, P99Ms: f[6] / 1000, P999Ms: f[7] / 1000, GeneratorCpu: ChildrenCpu(lines[^1]));
        }
        finally
        {
            File.Delete(script);
        }
    }

    /// <summary>The request, and one line at the end with the counts and the latencies (µs) for the bench to read.</summary>
    private static string Script(byte[] body) => $$"""
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        wrk.body = "{{string.Concat(body.Select(b => $"\\{b:D3}"))}}"
        done = function(summary, latency, requests)
          local e = summary.errors
          io.write(string.format("WRK %d %d %d %d %d %.0f %.0f %.0f\n", summary.duration, summary.requests, e.status, e.timeout,
            e.connect + e.read + e.write, latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
        end
        """;

    /// <summary>The user and system time of bash's children, from `times`' second line: <c>0m1.234s 0m0.567s</c>.</summary>
    private static TimeSpan ChildrenCpu(string line) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Aggregate(TimeSpan.Zero, (sum, part) =>
        {
            var m = part.IndexOf('m', StringComparison.Ordinal);
            return sum + TimeSpan.FromMinutes(int.Parse(part[..m], CultureInfo.InvariantCulture))
                + TimeSpan.FromSeconds(double.Parse(part[(m + 1)..^1], CultureInfo.InvariantCulture));
        });
}
