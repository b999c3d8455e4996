using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ToDoList.TestSupport;

/// <summary>
/// A throwaway PostgreSQL cluster for the whole test run: made by initdb in a temporary folder, listening on a free
/// loopback port, started once on first use. A test project's collection fixture stops it (and deletes its folder) with
/// <see cref="StopAsync"/> when its classes are done; a test process that ends otherwise stops it on exit, and the next run sweeps what a killed one left.
/// Each test class takes a database of its own with <see cref="CreateDatabaseAsync"/>.
/// </summary>
public sealed class PostgresServer
{
    /// <summary>Members of this role must log in with their password (SCRAM); every other login is trusted.</summary>
    public const string PasswordGroup = "todo_password_logins";

    private const string FolderPrefix = "todo-pg-";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync);

    private readonly string _binaries;
    private readonly string _directory;
    private int _stopped;

    private PostgresServer(string binaries, string directory, int port)
    {
        _binaries = binaries;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The cluster of this test run, started by the first caller.</summary>
    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>Stops the cluster if it was started.</summary>
    public static async Task StopAsync()
    {
        if (Shared.IsValueCreated && Shared.Value.IsCompletedSuccessfully)
        {
            await Task.Run((await Shared.Value).Stop);
        }
    }

    /// <summary>Stops the server (fast: sessions are ended), keeping its data, as an outage of the database would.</summary>
    public Task PauseAsync() =>
        RunAsync(Path.Combine(_binaries, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "fast", "-w", "stop"], _directory, asPostgres: true);

    /// <summary>Starts the server again after <see cref="PauseAsync"/>, on the same port with the same data.</summary>
    public Task ResumeAsync() =>
        RunAsync(Path.Combine(_binaries, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-l", Path.Combine(_directory, "pg.log"), "-w", "-t", "30", "-o", Options(Port, _directory), "start"], _directory, asPostgres: true);

    /// <summary>A trusted connection string (user <c>postgres</c>, no password) to <paramref name="database"/>.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    /// <summary>Creates an empty database with a fresh name and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "todo")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}";
        await ExecuteAsync($"CREATE DATABASE \"{name}\"");
        return name;
    }

    /// <summary>Creates a database owned by a new role that logs in with <paramref name="password"/>; returns the connection string, password included.</summary>
    public async Task<string> CreateDatabaseWithPasswordAsync(string password)
    {
        var role = $"todo_pw_{Guid.NewGuid():N}";
        await ExecuteAsync($"CREATE ROLE {role} LOGIN PASSWORD '{password.Replace("'", "''")}' IN ROLE {PasswordGroup}");
        var database = await CreateDatabaseAsync();
        await ExecuteAsync($"ALTER DATABASE \"{database}\" OWNER TO {role}");
        return $"Host=127.0.0.1;Port={Port};Username={role};Password={password};Database={database}";
    }

    /// <summary>
    /// Serves TLS with <paramref name="certFile"/> and <paramref name="keyFile"/> from now on (copied into the cluster,
    /// owned by its user, the key readable by it alone; <c>ssl = on</c>, reloaded). Connections without TLS are still
    /// taken: only clients that ask for it (<c>SSL Mode</c>) use it.
    /// </summary>
    public async Task EnableTlsAsync(string certFile, string keyFile)
    {
        var data = Path.Combine(_directory, "data");
        File.Copy(certFile, Path.Combine(data, "server.crt"), overwrite: true);
        File.Copy(keyFile, Path.Combine(data, "server.key"), overwrite: true);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(data, "server.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", ["postgres:postgres", Path.Combine(data, "server.crt"), Path.Combine(data, "server.key")], _directory);
        }

        await ExecuteAsync("ALTER SYSTEM SET ssl = on");
        await ExecuteAsync("SELECT pg_reload_conf()");

        // The reload reaches new sessions a moment later.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await using var connection = new NpgsqlConnection(ConnectionString() + ";Pooling=false");
            await connection.OpenAsync();
            await using var show = new NpgsqlCommand("SHOW ssl", connection);
            if ((string?)await show.ExecuteScalarAsync() == "on")
            {
                return;
            }

            if (deadline.Elapsed > CommandTimeout)
            {
                throw new InvalidOperationException("PostgreSQL did not turn ssl on after a reload.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Runs one SQL statement in the <c>postgres</c> database as the superuser.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<PostgresServer> StartAsync()
    {
        var binaries = FindBinaries();
        StopLeftovers(binaries);

        var directory = Path.Combine(Path.GetTempPath(), $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        // initdb and postgres refuse root: as root, they run as the postgres user, which must own the folder.
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The PostgreSQL tests run on Linux (initdb as the postgres user).");
        }

        File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", ["postgres:postgres", directory], directory);
        }

        var data = Path.Combine(directory, "data");
        await RunAsync(Path.Combine(binaries, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], directory, asPostgres: true);
        // Members of the password group are the one exception to trust: the first matching line wins.
        var hba = Path.Combine(data, "pg_hba.conf");
        await File.WriteAllTextAsync(hba, $"host all +{PasswordGroup} 127.0.0.1/32 scram-sha-256\n" + await File.ReadAllTextAsync(hba));

        // A port found free can be taken before postgres binds it: try again on another.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreeLoopbackPort();
            // Durability off: the cluster lives as long as one test run.
            var options = Options(port, directory);
            try
            {
                await RunAsync(Path.Combine(binaries, "pg_ctl"), ["-D", data, "-l", Path.Combine(directory, "pg.log"), "-w", "-t", "30", "-o", options, "start"], directory, asPostgres: true);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                continue;
            }

            var server = new PostgresServer(binaries, directory, port);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
            await server.ExecuteAsync($"CREATE ROLE {PasswordGroup} NOLOGIN");
            return server;
        }
    }

    private static string Options(int port, string directory) =>
        $"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off";

    /// <summary>Stops the cluster (fast shutdown: open sessions are ended) and deletes its folder.</summary>
    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        try
        {
            RunAsync(Path.Combine(_binaries, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "fast", "-w", "stop"], _directory, asPostgres: true).GetAwaiter().GetResult();
        }
        finally
        {
            DeleteFolder(_directory);
        }
    }

    /// <summary>
    /// The newest installed PostgreSQL's binaries: /usr/lib/postgresql/VERSION/bin on Debian and Ubuntu
    /// (<c>./test.sh</c> installs the package), else wherever initdb is on the PATH.
    /// </summary>
    private static string FindBinaries()
    {
        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Version: double.TryParse(Path.GetFileName(d), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1, Bin: Path.Combine(d, "bin")))
                .Where(d => d.Version >= 0 && File.Exists(Path.Combine(d.Bin, "initdb")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Bin)
                .FirstOrDefault()
            : null;
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")));
        return installed ?? onPath
            ?? throw new InvalidOperationException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb, no initdb on the PATH): run ./test.sh, which installs it, or apt-get install postgresql.");
    }

    /// <summary>Clusters of earlier test runs that died before stopping theirs (the folder names the test process).</summary>
    private static void StopLeftovers(string binaries)
    {
        foreach (var directory in Directory.GetDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            var name = Path.GetFileName(directory)[FolderPrefix.Length..];
            if (!int.TryParse(name.Split('-')[0], out var pid) || IsRunning(pid))
            {
                continue;
            }

            if (File.Exists(Path.Combine(directory, "data", "postmaster.pid")))
            {
                try
                {
                    RunAsync(Path.Combine(binaries, "pg_ctl"), ["-D", Path.Combine(directory, "data"), "-m", "immediate", "-w", "stop"], directory, asPostgres: true).GetAwaiter().GetResult();
                }
                catch (InvalidOperationException)
                {
                    // Not running any more: only the folder is left.
                }
            }

            DeleteFolder(directory);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a command to its end within <see cref="CommandTimeout"/>; throws with its output when it fails.</summary>
    private static async Task RunAsync(string file, string[] arguments, string workingDirectory, bool asPostgres = false)
    {
        var start = asPostgres && Environment.IsPrivilegedProcess
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. arguments])
            : new ProcessStartInfo(file, arguments);
        // The postgres user may not enter the test's own folder.
        start.WorkingDirectory = workingDirectory;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} did not end within {CommandTimeout.TotalSeconds:0} s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        }
    }

    private static void DeleteFolder(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is no reason to fail a test run.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
