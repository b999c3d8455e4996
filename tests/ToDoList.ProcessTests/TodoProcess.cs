using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ToDoList.ProcessTests;

/// <summary>
/// One <c>todo</c> process (a role or a <c>todo mq</c> command) of the published app, as a real OS process.
/// Everything it writes is kept, line by line; waits are for what it writes or for its exit, each with a
/// deadline, never a fixed sleep. Disposing kills it through its own <see cref="Process"/>, never by name.
/// </summary>
public sealed class TodoProcess : IAsyncDisposable
{
    /// <summary>How much of a process's output an assertion message shows.</summary>
    public const int TailLines = 40;

    private const int MaxKeptLines = 50_000;

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<string> _standardOutput = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _newLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private TodoProcess(string name, Process process, Uri? baseUrl)
    {
        Name = name;
        _process = process;
        BaseUrl = baseUrl;
    }

    /// <summary>What the test calls it, e.g. <c>save-handler #2</c>: assertion messages name processes by it.</summary>
    public string Name { get; }

    /// <summary>The process id, kept after the process is gone.</summary>
    public int Id { get; private set; }

    /// <summary>Where it listens (<c>--urls</c>), or null.</summary>
    public Uri? BaseUrl { get; }

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>The exit code once it exited, else null.</summary>
    public int? ExitCode { get; private set; }

    /// <summary>Every line written so far, standard output and error interleaved as they came.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>The lines written to standard output only (what <c>todo mq</c> prints as its result).</summary>
    public IReadOnlyList<string> StandardOutput
    {
        get
        {
            lock (_lines)
            {
                return [.. _standardOutput];
            }
        }
    }

    /// <summary>Everything written so far, as one text.</summary>
    public string Output => string.Join('\n', Lines);

    /// <summary>The last lines written, headed by the process's name and id, for assertion messages.</summary>
    public string Tail(int lines = TailLines)
    {
        var all = Lines;
        var state = HasExited ? $"exited with {ExitCode}" : "running";
        return $"--- {Name} (pid {Id}, {state}), last {Math.Min(lines, all.Count)} of {all.Count} lines ---\n{string.Join('\n', all.TakeLast(lines))}";
    }

    /// <summary>Starts <c>dotnet todo.dll ARGS</c> in <paramref name="workingDirectory"/> with exactly the given settings in its environment.</summary>
    public static TodoProcess Start(string name, string appDir, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment, string workingDirectory, Uri? baseUrl = null)
    {
        var start = new ProcessStartInfo(PublishedApp.DotnetHost(), [Path.Combine(appDir, "todo.dll"), .. arguments])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // Settings of the test's own environment must not leak into the app's.
        foreach (var inherited in start.Environment.Keys.Where(IsAppSetting).ToList())
        {
            start.Environment.Remove(inherited);
        }

        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var todo = new TodoProcess(name, process, baseUrl);
        process.OutputDataReceived += (_, e) => todo.Keep(e.Data, standardOutput: true);
        process.ErrorDataReceived += (_, e) => todo.Keep(e.Data, standardOutput: false);
        process.Exited += (_, _) =>
        {
            todo.ExitCode = process.ExitCode;
            todo._exited.TrySetResult();
        };
        process.Start();
        todo.Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return todo;
    }

    /// <summary>Waits until a line contains <paramref name="text"/>; fails at the deadline, or at once if the process exits first.</summary>
    public Task<string> WaitForLineAsync(string text, TimeSpan timeout) =>
        WaitForAsync(lines => lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)), $"a line containing \"{text}\"", timeout);

    /// <summary>Waits until <paramref name="probe"/> finds what it looks for in the lines so far (it is asked again at each new line).</summary>
    public async Task<T> WaitForAsync<T>(Func<IReadOnlyList<string>, T?> probe, string what, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            // Take the signal before reading the lines: a line added in between completes it.
            var next = Volatile.Read(ref _newLine).Task;
            if (probe(Lines) is { } found)
            {
                return found;
            }

            if (_exited.Task.IsCompleted && _outputClosed.Task.IsCompleted && _errorClosed.Task.IsCompleted)
            {
                Assert.Fail($"{Name} exited before writing {what}.\n{Tail()}");
            }

            try
            {
                await Task.WhenAny(next, Task.WhenAll(_exited.Task, _outputClosed.Task, _errorClosed.Task)).WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"{Name} did not write {what} within {timeout.TotalSeconds:0.#} s.\n{Tail()}");
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds over several processes' output (asked again whenever one of
    /// them writes a line); fails at the deadline with their tails.
    /// </summary>
    public static async Task WaitForAllAsync(IReadOnlyCollection<TodoProcess> processes, Func<bool> condition, string what, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var next = processes.Select(p => Volatile.Read(ref p._newLine).Task).ToList();
            if (condition())
            {
                return;
            }

            try
            {
                await Task.WhenAny(next).WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.\n{string.Join("\n\n", processes.Select(p => p.Tail()))}");
            }
        }
    }

    /// <summary>The exit code, once the process ended and its output was read to the end; fails at the deadline.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await Task.WhenAll(_exited.Task, _outputClosed.Task, _errorClosed.Task).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{Name} did not exit within {timeout.TotalSeconds:0.#} s.\n{Tail()}");
        }

        return ExitCode!.Value;
    }

    /// <summary>Kills the process at once (SIGKILL), as a crash or <c>docker kill</c> would, and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (!_exited.Task.IsCompleted)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Asks the process to stop (SIGTERM), as <c>docker stop</c> or a scale-down does, and answers its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_exited.Task.IsCompleted && SendSignal(Id, SigTerm) != 0)
        {
            Assert.Fail($"Could not signal {Name} (errno {Marshal.GetLastPInvokeError()}).\n{Tail()}");
        }

        return await WaitForExitAsync(timeout);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            await KillAsync();
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static bool IsAppSetting(string name) =>
        name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("MessageQueue__", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("Database__", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("Events__", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase);

    private void Keep(string? line, bool standardOutput)
    {
        if (line is null)
        {
            (standardOutput ? _outputClosed : _errorClosed).TrySetResult();
            Signal();
            return;
        }

        lock (_lines)
        {
            if (_lines.Count < MaxKeptLines)
            {
                _lines.Add(line);
                if (standardOutput)
                {
                    _standardOutput.Add(line);
                }
            }
        }

        Signal();
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private void Signal() =>
        Interlocked.Exchange(ref _newLine, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
