namespace MlxManager.Web.Hosting;

/// <summary>
/// Security headers on every response: a Content-Security-Policy allowing only the app's own scripts (no inline
/// script, no eval: htmx runs with <c>allowEval=false</c>, so hx-trigger filters are not evaluated and site.js keeps
/// polling to visible pages), no framing, a same-origin referrer and nosniff. An endpoint that sets a stricter policy
/// of its own (chat attachments: <c>sandbox</c>) keeps it.
/// </summary>
public static class SecurityHeadersHosting
{
    /// <summary>
    /// Styles allow <c>'unsafe-inline'</c> for the <c>style="width: …%"</c> of gauges and bars the server renders;
    /// scripts stay strict. Images and media also allow <c>data:</c> (the favicon) and <c>blob:</c> (previews of files
    /// about to be sent in the chat).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
        "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; " +
        "form-action 'self'; frame-ancestors 'none'";

    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var response = context.Response;
            response.OnStarting(() =>
            {
                var headers = response.Headers;
                headers.TryAdd("Content-Security-Policy", ContentSecurityPolicy);
                headers.XFrameOptions = "DENY"; // antiforgery sets SAMEORIGIN on pages with a form; nothing may frame the app
                headers["Referrer-Policy"] = "same-origin";
                headers.XContentTypeOptions = "nosniff";
                return Task.CompletedTask;
            });
            return next();
        });
        return app;
    }
}
