using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace ToDoList.Web.Admin;

/// <summary>
/// Who may replay or delete dead letters and see the diagnostics: the policy <see cref="Policy"/>. Two ways to be an
/// administrator: sign in with <c>Admin:ApiKey</c> (a cookie, HttpOnly, SameSite=Strict, Secure over HTTPS), or, while no
/// key is set, be on this machine (a loopback address), so the all-in-one default stays one command. Anyone else is refused.
/// </summary>
public static class AdminAccess
{
    public const string Policy = "Admin";
    public const string SignInPath = "/signin";
    private const string Scheme = "Admin";
    private const string LoopbackScheme = "Loopback";
    private const string CookieName = "todo-admin";
    private const string Role = "admin";

    public static IHostApplicationBuilder AddAdminAccess(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<AdminOptions>(builder.Configuration.GetSection("Admin"));
        // Every request, the circuit's hub connection included, is read by the cookie when it carries one, else by the loopback rule.
        builder.Services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "The admin cookie, or this machine", options =>
            {
                options.ForwardDefaultSelector = context => context.Request.Cookies.ContainsKey(CookieName) ? CookieAuthenticationDefaults.AuthenticationScheme : LoopbackScheme;
                options.ForwardChallenge = CookieAuthenticationDefaults.AuthenticationScheme;
                options.ForwardForbid = CookieAuthenticationDefaults.AuthenticationScheme;
                options.ForwardSignIn = CookieAuthenticationDefaults.AuthenticationScheme;
                options.ForwardSignOut = CookieAuthenticationDefaults.AuthenticationScheme;
            })
            .AddCookie(options =>
            {
                options.LoginPath = SignInPath;
                options.AccessDeniedPath = SignInPath;
                options.Cookie.Name = CookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.ExpireTimeSpan = TimeSpan.FromHours(8);
            })
            .AddScheme<AuthenticationSchemeOptions, LoopbackHandler>(LoopbackScheme, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.RequireRole(Role));
        builder.Services.AddCascadingAuthenticationState();
        return builder;
    }

    /// <summary>True when <paramref name="key"/> is the configured key (compared in constant time); false when none is set.</summary>
    public static bool IsKey(AdminOptions options, string? key) =>
        !string.IsNullOrEmpty(options.ApiKey) && key is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(options.ApiKey));

    /// <summary>The administrator, as the cookie carries it.</summary>
    public static ClaimsPrincipal Administrator(string how) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "administrator"), new Claim(ClaimTypes.Role, Role)], how));

    /// <summary>Makes a request from this machine an administrator while no key is set (and <c>Admin:AllowLoopback</c> is not false).</summary>
    private sealed class LoopbackHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IOptions<AdminOptions> admin)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var settings = admin.Value;
            var remote = Context.Connection.RemoteIpAddress;
            return Task.FromResult(string.IsNullOrEmpty(settings.ApiKey) && settings.AllowLoopback && remote is not null && IPAddress.IsLoopback(remote)
                ? AuthenticateResult.Success(new AuthenticationTicket(Administrator(LoopbackScheme), LoopbackScheme))
                : AuthenticateResult.NoResult());
        }

    }
}

/// <summary>The <c>Admin</c> settings.</summary>
public sealed class AdminOptions
{
    /// <summary>The key an administrator signs in with. Unset: only requests from this machine are administrators.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Whether, with no key set, requests from a loopback address are administrators. Default true.</summary>
    public bool AllowLoopback { get; set; } = true;
}
