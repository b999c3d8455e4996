using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace ToDoList.Api;

/// <summary>
/// A token bucket per client address on the API (settings <c>Api:RateLimit:PermitsPerSecond</c>, default 500, and
/// <c>Api:RateLimit:Burst</c>, default 1000; 0 permits per second turns it off). Past it: <c>429</c> with <c>Retry-After</c>.
/// </summary>
public static class ApiRateLimit
{
    public const string Policy = "api";

    public static IHostApplicationBuilder AddApiRateLimit(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Api:RateLimit");
        var perSecond = section.GetValue("PermitsPerSecond", 500);
        var burst = Math.Max(1, section.GetValue("Burst", 1000));
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await TypedResults.Problem(
                    detail: $"More than {perSecond} requests a second from this client; try again after {retryAfter.TotalSeconds:0.#} s.",
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many requests").ExecuteAsync(context.HttpContext);
            };
            options.AddPolicy(Policy, context => perSecond <= 0
                ? RateLimitPartition.GetNoLimiter("off")
                : RateLimitPartition.GetTokenBucketLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "", _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = burst,
                    TokensPerPeriod = perSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
        });
        return builder;
    }
}
