using System.Diagnostics;

namespace ToDoList.Bench;

/// <summary>The command line: <c>SCENARIO [--url URL] [--duration S] [--size BYTES] [--messages N] [--quick]</c>.</summary>
internal sealed record BenchOptions(string Scenario, string? Url, TimeSpan Duration, int[] Sizes, int Rounds, int? Messages)
{
    public static BenchOptions Parse(string[] args)
    {
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var quick = args.Contains("--quick");
        var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || args[i - 1] is not ("--url" or "--duration" or "--size" or "--messages")));
        var scenario = positional.FirstOrDefault() ?? throw new ArgumentException("Name a scenario: " + string.Join(", ", Program.Scenarios));
        var duration = TimeSpan.FromSeconds(double.Parse(Value("--duration") ?? (quick ? "1" : "3"), System.Globalization.CultureInfo.InvariantCulture));
        var sizes = Value("--size") is { } size ? [int.Parse(size, System.Globalization.CultureInfo.InvariantCulture)] : new[] { 16, 256 };
        var messages = Value("--messages") is { } count ? int.Parse(count, System.Globalization.CultureInfo.InvariantCulture) : (int?)null;
        return new BenchOptions(scenario, Value("--url"), duration, sizes, quick ? 1 : 3, messages);
    }
}

/// <summary>Runs ours and its baseline alternately, round after round, and keeps the medians.</summary>
internal static class Compare
{
    public static readonly List<string> Results = [];

    public static async Task RunAsync(string name, string unit, BenchOptions options, Func<Task<double>> ours, Func<Task<double>> baseline)
    {
        var o = new List<double>();
        var b = new List<double>();
        for (var round = 1; round <= options.Rounds; round++)
        {
            o.Add(await ours());
            b.Add(await baseline());
            Console.WriteLine($"  {name} round {round}: ours {o[^1]:N0} {unit}, baseline {b[^1]:N0} {unit}");
        }

        Add(name, unit, Median(o), Median(b));
    }

    /// <summary>One comparison line of figures a scenario measured itself (e.g. several per run).</summary>
    public static void Add(string name, string unit, double ours, double baseline, int decimals = 0)
    {
        var format = "F" + decimals;
        Results.Add($"{name}: ours={ours.ToString(format)} {unit} baseline={baseline.ToString(format)} {unit} ratio={ours / baseline:F2}");
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}

/// <summary>How the scenarios send and count: the same for ours and the baseline.</summary>
internal static class Load
{
    /// <summary>Keeps up to <paramref name="window"/> sends in flight for <paramref name="duration"/>; answers how many were sent.</summary>
    public static Task<long> SendForAsync(TimeSpan duration, Func<ValueTask> send, int window = 256)
    {
        var clock = Stopwatch.StartNew();
        return SendWhileAsync(sent => sent % 256 != 0 || clock.Elapsed < duration, send, window);
    }

    /// <summary>Sends <paramref name="count"/> with up to <paramref name="window"/> in flight.</summary>
    public static Task SendCountAsync(long count, Func<ValueTask> send, int window = 256) =>
        SendWhileAsync(sent => sent < count, send, window);

    private static async Task<long> SendWhileAsync(Func<long, bool> more, Func<ValueTask> send, int window)
    {
        var pending = new List<Task>(window);
        long sent = 0;
        while (more(sent))
        {
            var task = send();
            sent++;
            if (!task.IsCompletedSuccessfully)
            {
                pending.Add(task.AsTask());
                if (pending.Count >= window)
                {
                    await Task.WhenAll(pending);
                    pending.Clear();
                }
            }
        }

        await Task.WhenAll(pending);
        return sent;
    }

    /// <summary>Waits until <paramref name="count"/> reaches <paramref name="target"/>, or fails after a minute.</summary>
    public static async Task WaitForAsync(Func<long> count, long target, string what)
    {
        var clock = Stopwatch.StartNew();
        while (count() < target)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(1))
            {
                throw new TimeoutException($"{what}: {count()} of {target} after a minute.");
            }

            await Task.Delay(1);
        }
    }

    /// <summary>Sends for the duration, waits until all arrived; the rate over the whole time.</summary>
    public static async Task<double> ThroughputAsync(TimeSpan duration, Func<ValueTask> send, Func<long> received, string what, int window = 256)
    {
        var start = received();
        var clock = Stopwatch.StartNew();
        var sent = await SendForAsync(duration, send, window);
        await WaitForAsync(received, start + sent, what);
        return sent / clock.Elapsed.TotalSeconds;
    }
}
