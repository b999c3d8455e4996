using System.CommandLine;

namespace ToDoList.Cli;

/// <summary>
/// <c>todo healthcheck [URL]</c>: exits 0 when the role's <c>/healthz</c> answers 200, else 1. Container images of
/// .NET carry no curl or wget, so Compose and Docker healthchecks ask the app itself.
/// </summary>
public static class HealthCheckCommand
{
    public const string DefaultUrl = "http://localhost:8080/healthz";

    public static Command Create()
    {
        var url = new Argument<string>("url") { Description = $"What to ask (default {DefaultUrl}).", DefaultValueFactory = _ => DefaultUrl };
        var timeout = new Option<double>("--timeout", "-t") { Description = "Seconds to wait for the answer.", DefaultValueFactory = _ => 5 };
        var command = new Command("healthcheck", "Exit 0 when URL (a role's /healthz) answers 200, else 1: for container healthchecks.") { url, timeout };
        command.SetAction(async (result, ct) =>
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(Math.Max(0.1, result.GetValue(timeout))) };
            try
            {
                using var answer = await client.GetAsync(result.GetValue(url), ct);
                Console.WriteLine($"{(int)answer.StatusCode} {answer.ReasonPhrase}");
                return answer.IsSuccessStatusCode ? 0 : 1;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or UriFormatException)
            {
                Console.Error.WriteLine($"unhealthy: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
