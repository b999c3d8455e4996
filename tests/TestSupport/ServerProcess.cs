using System.Diagnostics;

namespace ToDoList.TestSupport;

/// <summary>
/// Starts a test server (nats-server, redis-server, …) so that it ends with the test process however that
/// process ends: a test host is often killed, so ProcessExit never runs and a server started directly would
/// be left behind. The server runs under a shell that watches its standard input: when it closes (this
/// process ended, or the <see cref="Process"/> was disposed), the shell stops the server (SIGTERM) and
/// deletes its folder. A deliberate <see cref="StopAsync"/> stops it too but keeps its folder, for a restart.
/// The shell ends with the server, so a server that could not start is noticed at once (<see cref="Process.Exited"/>).
/// One shared way for every server fixture; stopped by its process, never by name.
/// </summary>
public static class ServerProcess
{
    private const string StopCommand = "stop";

    // $0 is the server, "$@" its arguments; TODO_SERVER_DIR its folder. The server gets no copy of the
    // watched standard input (fd 3), so only this process holds the pipe's writing end.
    // The watcher reads one line: "stop" stops the server and keeps the folder; the end of input (this
    // process gone, or the Process disposed without a stop) stops the server and deletes the folder once it ended.
    private const string Script =
        "exec 3<&0; \"$0\" \"$@\" 3<&- & server=$!; "
        + "( if read -r command <&3 && [ \"$command\" = " + StopCommand + " ]; then kill $server; exit 0; fi; "
        + "kill $server; while kill -0 $server; do sleep 0.1; done; rm -rf \"$TODO_SERVER_DIR\" ) </dev/null >/dev/null 2>&1 & "
        + "wait $server; exit $?";

    /// <summary>
    /// How to start <paramref name="executable"/> with <paramref name="arguments"/> in <paramref name="directory"/>
    /// under the watching shell: standard input redirected (keep it open: closing it stops the server), standard
    /// output and error redirected (the server's own).
    /// </summary>
    public static ProcessStartInfo StartInfo(string executable, IEnumerable<string> arguments, string directory) =>
        new("/bin/sh", ["-c", Script, executable, .. arguments])
        {
            Environment = { ["TODO_SERVER_DIR"] = directory },
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };

    /// <summary>
    /// Stops a server started with <see cref="StartInfo"/> (SIGTERM: it shuts down as it would for an operator),
    /// keeping its folder, and disposes <paramref name="process"/>. Killed, with its shell, if it has not ended
    /// within <paramref name="deadline"/>.
    /// </summary>
    public static async Task StopAsync(Process process, TimeSpan deadline)
    {
        using (process)
        {
            if (process.HasExited)
            {
                return;
            }

            try
            {
                await process.StandardInput.WriteLineAsync(StopCommand);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The shell ended meanwhile: so did its server.
            }

            try
            {
                await process.WaitForExitAsync().WaitAsync(deadline);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
    }

    /// <summary>
    /// Deletes the temp folders (<paramref name="folderPrefix"/>*) of servers that are gone, left by a test
    /// process killed before it could clean up; a folder whose pid file names a running <paramref name="program"/> stays.
    /// </summary>
    public static void DeleteLeftovers(string folderPrefix, string pidFileName, string program)
    {
        foreach (var directory in Directory.GetDirectories(Path.GetTempPath(), folderPrefix + "*"))
        {
            var pidFile = Path.Combine(directory, pidFileName);
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) && File.Exists($"/proc/{pid}/cmdline")
                && File.ReadAllText($"/proc/{pid}/cmdline").Contains(program, StringComparison.Ordinal))
            {
                continue;
            }

            if (Directory.GetLastWriteTimeUtc(directory) > DateTime.UtcNow.AddMinutes(-1))
            {
                // Perhaps a server of another test process, starting right now.
                continue;
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
