using Microsoft.AspNetCore.Http;

namespace MlxManager.HubEmulator;

/// <summary>Finds the repo a request names, answering for it when it cannot be served: a relative 307 for a
/// renamed repo, <c>RepoNotFound</c> for a missing one or a private one the caller may not see.</summary>
internal static class RepoAccess
{
    public static async Task<HubRepo?> FindAsync(HttpContext context, HubSite site, string org, string name)
    {
        var caller = site.Identify(context);
        var id = $"{org}/{name}";
        var repo = site.Catalog.Find(id);
        if (repo is not null && (!repo.Private || caller == Caller.Granted)) return repo;

        if (repo is null && site.Catalog.RenamedTo(id) is { } newId)
        {
            // Relative, so clients follow it (and keep their token) while never following the absolute CDN redirect.
            var path = context.Request.Path.Value ?? "";
            var at = path.IndexOf($"/{id}", StringComparison.Ordinal);
            var location = at < 0 ? $"/{newId}" : path[..at] + "/" + newId + path[(at + id.Length + 1)..];
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = location + context.Request.QueryString;
            await HubErrors.WriteBytesAsync(context, System.Text.Encoding.UTF8.GetBytes($"Temporary Redirect. Redirecting to {location}"), "text/plain; charset=utf-8");
            return null;
        }
        await HubErrors.RepoNotFoundAsync(context, caller);
        return null;
    }
}
