using System.Diagnostics;
using ToDoList.Hosting;

namespace ToDoList.Tests;

/// <summary>SPEC §1 and §2: a role that needs other processes refuses the in-process queue with one clear line.</summary>
public sealed class RoleTests
{
    public static TheoryData<Role> SeparateRoles => [Role.Web, Role.Api, Role.SaveHandler, Role.AuditHandler];

    [Theory]
    [MemberData(nameof(SeparateRoles))]
    public void A_separate_role_without_a_queue_url_refuses_to_build(Role role)
    {
        var error = Assert.Throws<RoleConfigurationException>(() => TodoApp.Build(role, []));

        AssertOneClearLine(error.Message);
    }

    [Theory]
    [InlineData(Role.Web, "memory://")]
    [InlineData(Role.Web, "embedded://")]
    [InlineData(Role.Api, "memory://")]
    [InlineData(Role.SaveHandler, "memory://")]
    [InlineData(Role.SaveHandler, "embedded://")]
    [InlineData(Role.AuditHandler, "embedded://")]
    public void A_separate_role_on_the_in_process_queue_refuses_to_build(Role role, string url)
    {
        var error = Assert.Throws<RoleConfigurationException>(() => TodoApp.Build(role, [$"--MessageQueue:Url={url}"]));

        AssertOneClearLine(error.Message);
    }

    [Theory]
    [InlineData(Role.SaveHandler, "")]
    [InlineData(Role.Api, "   ")]
    public void A_separate_role_with_a_blank_queue_url_refuses_to_build(Role role, string url)
    {
        var error = Assert.Throws<RoleConfigurationException>(() => TodoApp.Build(role, [$"--MessageQueue:Url={url}"]));

        AssertOneClearLine(error.Message);
    }

    [Fact]
    public async Task All_in_one_with_a_blank_queue_url_uses_the_embedded_queue()
    {
        var directory = Directory.CreateTempSubdirectory("todo-role-");
        var host = TodoApp.Build(Role.AllInOne, ["--MessageQueue:Url=", "--urls", "http://127.0.0.1:0", $"--ConnectionStrings:ToDoDb=Data Source={Path.Combine(directory.FullName, "todo.db")}"]);
        try
        {
            Assert.Equal("embedded", host.Services.GetRequiredService<Messaging.MessageBus>().Transport.Name);
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("save-handler")]
    [InlineData("web")]
    public async Task The_todo_executable_in_a_separate_role_without_a_queue_exits_2_with_one_line(string role)
    {
        var directory = Directory.CreateTempSubdirectory("todo-role-");
        try
        {
            var start = new ProcessStartInfo(DotnetHost(), [Path.Combine(AppContext.BaseDirectory, "todo.dll"), role])
            {
                WorkingDirectory = directory.FullName,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var name in new[] { "MessageQueue__Url", "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT" })
            {
                start.Environment.Remove(name);
            }

            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"todo {role} did not exit within 30 s.");
            }

            var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.True(process.ExitCode == 2, $"exit code {process.ExitCode}; stderr: {await stderr}; stdout: {await stdout}");
            var line = Assert.Single(lines);
            Assert.Contains("MessageQueue__Url", line);
            Assert.Empty(Directory.EnumerateFileSystemEntries(directory.FullName));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static void AssertOneClearLine(string message)
    {
        Assert.Contains("MessageQueue__Url", message);
        Assert.DoesNotContain('\n', message);
    }

    /// <summary>The <c>dotnet</c> that runs these tests, so the app runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        var self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
