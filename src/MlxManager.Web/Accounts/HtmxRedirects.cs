using Htmx;

namespace MlxManager.Web.Accounts;

/// <summary>Redirects that also work when the request came from htmx.</summary>
public static class HtmxRedirects
{
    /// <summary>
    /// Sends the browser to <paramref name="location"/>. For an htmx request a 302 would make htmx swap
    /// the target page into the fragment, so answer 204 with <c>HX-Redirect</c> (204 rather than 401 keeps
    /// the browser console clean); otherwise an ordinary 302.
    /// </summary>
    public static void RedirectBrowser(HttpContext context, string location)
    {
        if (context.Request.IsHtmx())
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            context.Response.Htmx(headers => headers.Redirect(location));
            return;
        }
        context.Response.Redirect(location);
    }

    /// <summary>
    /// The local URL the person was looking at: for htmx, the page in the address bar
    /// (<c>HX-Current-URL</c>) rather than the fragment's URL.
    /// </summary>
    public static string CurrentPageUrl(HttpContext context)
    {
        if (context.Request.IsHtmx(out var htmx)
            && htmx is not null
            && Uri.TryCreate(htmx.CurrentUrl, UriKind.Absolute, out var current)
            && string.Equals(current.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase))
        {
            return current.PathAndQuery;
        }
        return context.Request.PathBase + context.Request.Path + context.Request.QueryString;
    }

    /// <summary><c>/login?returnUrl=…</c> for the current page.</summary>
    public static string LoginUrl(HttpContext context, string? reason = null)
    {
        var query = QueryString.Create("returnUrl", CurrentPageUrl(context));
        if (reason is not null)
        {
            query = query.Add("reason", reason);
        }
        return context.Request.PathBase + "/login" + query;
    }
}
