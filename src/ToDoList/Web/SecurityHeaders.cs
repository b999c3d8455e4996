namespace ToDoList.Web;

/// <summary>
/// Headers every answer carries: a Content-Security-Policy the UI works under (no inline script, nothing from elsewhere,
/// never framed), no MIME sniffing, no referrer. The interactive API page (/scalar) runs inline script, so it gets only
/// the framing rule.
/// </summary>
public static class SecurityHeaders
{
    // Inline styles only: blazor.web.js adds a <style> for its reconnect dialog. connect-src 'self' covers the circuit's WebSocket.
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public const string ApiPagePolicy = "frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/scalar") ? ApiPagePolicy : ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        return next(context);
    });
}
