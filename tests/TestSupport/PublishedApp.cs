using System.Diagnostics;

namespace ToDoList.TestSupport;

/// <summary>
/// The published <c>todo</c> app that tests run as OS processes: <c>TODO_APP_DIR</c> when set (test.sh publishes
/// once into .build/app), else <c>dotnet publish</c> once per test process. Only the published output serves
/// blazor.web.js in Production, so the build output will not do.
/// </summary>
public static class PublishedApp
{
    /// <summary>Set it to an already published folder to skip the publish here.</summary>
    public const string AppDirVariable = "TODO_APP_DIR";

    private static readonly TimeSpan PublishDeadline = TimeSpan.FromMinutes(5);
    private static readonly Lazy<Task<string>> Published = new(FindOrPublishAsync);

    /// <summary>The folder holding todo.dll.</summary>
    public static Task<string> DirectoryAsync() => Published.Value;

    /// <summary>The folder holding ToDoList.slnx, found by walking up from the test assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ToDoList.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No ToDoList.slnx above {AppContext.BaseDirectory}.");
    }

    /// <summary>The dotnet host that runs these tests, so the app runs on the same SDK's runtime.</summary>
    public static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static async Task<string> FindOrPublishAsync()
    {
        if (Environment.GetEnvironmentVariable(AppDirVariable) is { Length: > 0 } given)
        {
            return File.Exists(Path.Combine(given, "todo.dll"))
                ? given
                : throw new InvalidOperationException($"{AppDirVariable}={given} holds no todo.dll; publish src/ToDoList there first.");
        }

        var repo = RepositoryRoot();
        var output = Path.Combine(repo, ".build", "app");
        var publish = new ProcessStartInfo(DotnetHost(), ["publish", Path.Combine(repo, "src", "ToDoList"), "-c", "Release", "--use-current-runtime", "--self-contained", "false", "-o", output, "--nologo"])
        {
            WorkingDirectory = repo,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(publish)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(PublishDeadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet publish did not finish within {PublishDeadline}.\n{await stdout}{await stderr}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish failed with exit code {process.ExitCode}.\n{await stdout}{await stderr}");
        }

        return output;
    }
}
