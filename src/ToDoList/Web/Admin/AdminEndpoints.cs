using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ToDoList.Web.Admin;

/// <summary><c>POST /signin</c> (the key, from the sign-in page's form, antiforgery checked) and <c>POST /signout</c>.</summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(AdminAccess.SignInPath, async ([FromForm] string? key, [FromForm] string? returnUrl, HttpContext http, IOptions<AdminOptions> admin) =>
        {
            var back = IsLocalPath(returnUrl) ? returnUrl! : "/diagnostics";
            if (!AdminAccess.IsKey(admin.Value, key))
            {
                return Results.Redirect($"{AdminAccess.SignInPath}?refused=true&returnUrl={Uri.EscapeDataString(back)}");
            }

            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, AdminAccess.Administrator(CookieAuthenticationDefaults.AuthenticationScheme));
            return Results.LocalRedirect(back);
        }).ExcludeFromDescription();

        app.MapPost("/signout", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.LocalRedirect("/");
        }).ExcludeFromDescription();
        return app;
    }

    /// <summary>A path of this site only: never an open redirect to another host (<c>//host</c>, <c>/\host</c>).</summary>
    private static bool IsLocalPath(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));
}
