using System.Security.Claims;
using Htmx;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MlxManager.Core.Downloads;
using MlxManager.Core.Library;
using MlxManager.Web.Accounts;
using MlxManager.Web.Models;

namespace MlxManager.Web.Pages.Models;

/// <summary>
/// MODELS-01/03, DISC-02/03: search the Hub and the local library with one bar; tiles with sourced badges and a
/// memory verdict. Typing and filter changes ask for the results fragment (htmx, debounced) and push a canonical URL;
/// the fragment polls itself while detections run. Deleting and downloading models is for admins only. Downloads
/// (MODELS-02) show as their own tiles above the results, kept current over server-sent events.
/// </summary>
public sealed class IndexModel(
    ModelCatalog catalog,
    ModelLibrary library,
    IAuthorizationService authorization,
    DownloadQueue downloads,
    DownloadBoard downloadBoard,
    HfEnvironment environment) : PageModel
{
    public ModelQuery Query { get; private set; } = new();

    /// <summary>The results, or null when the Hub tab loads them after the page (so a slow Hub never delays the page).</summary>
    public ModelsView? View { get; private set; }

    public bool IsAdmin { get; private set; }

    /// <summary>The download tiles (rebuilt from the download records on every page load).</summary>
    public DownloadTilesView Downloads { get; private set; } = new([], false, string.Empty);

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Query = ModelQuery.From(Request.Query);
        IsAdmin = await authorization.IsAdminAsync(User);
        var fragment = Request.IsHtmx() && !Request.IsHtmxHistoryRestoreRequest();
        if (!fragment)
        {
            var board = await downloadBoard.RefreshAsync(cancellationToken);
            Downloads = new DownloadTilesView(board.Downloads, IsAdmin, environment.Endpoint);
        }

        if (!fragment && !Query.IsLocal)
        {
            return Page();
        }

        View = await catalog.BuildAsync(Query, IsAdmin, cancellationToken);
        if (!fragment)
        {
            return Page();
        }

        if (Request.Query["poll"] != "1")
        {
            Response.Htmx(h => h.PushUrl(Query.Url()));
        }

        return Partial("Partials/_Results", View);
    }

    /// <summary>Delete a model from the HF cache (admins only; refused while a running server uses it).</summary>
    [AdminOnly]
    public async Task<IActionResult> OnPostDeleteAsync(string repoId, CancellationToken cancellationToken)
    {
        var result = await library.DeleteAsync(repoId, cancellationToken: cancellationToken);
        if (result.Deleted)
        {
            library.Invalidate();
        }

        Query = ModelQuery.From(Request.Query).WithTab(ModelQuery.LocalTab);
        IsAdmin = true;
        View = await catalog.BuildAsync(Query, IsAdmin, cancellationToken) with { Notice = result.Message, NoticeIsError = !result.Deleted };
        if (Request.IsHtmx())
        {
            return Partial("Partials/_Results", View);
        }

        return Page();
    }

    /// <summary>
    /// Download a model (admins only): queues a download job (or joins the one already running) and removes the model's
    /// ordinary tile (the button's target); the download tile appears at the top through the SSE stream.
    /// </summary>
    [AdminOnly]
    public async Task<IActionResult> OnPostDownloadAsync(string? repoId, CancellationToken cancellationToken)
    {
        try
        {
            var started = await downloads.StartAsync(repoId ?? string.Empty, User.FindFirstValue(ClaimTypes.Email) ?? User.Identity?.Name, cancellationToken);
            if (!Request.IsHtmx())
            {
                return Redirect(ModelQuery.From(Request.Query).Url());
            }

            // The download tile arrives over the page's SSE stream; a join is worth a word.
            return Partial("Partials/_DownloadStarted", started.Joined ? new DownloadNotice(started.Message, IsError: false) : DownloadNotice.None);
        }
        catch (ArgumentException exception)
        {
            return TileError(repoId ?? string.Empty, exception.Message);
        }
    }

    private PartialViewResult TileError(string repoId, string message)
    {
        // The button targets the whole tile; a refusal goes to the tile's message line instead.
        Response.Htmx(h => h.Retarget($"#tile-message-{Slug(repoId)}").Reswap("outerHTML"));
        return Partial("Partials/_TileMessage", new TileMessage(repoId, message, IsError: true));
    }

    private static string Slug(string? repoId) => string.Concat((repoId ?? string.Empty).Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-'));
}

/// <summary>A short message shown inside a tile after one of its buttons.</summary>
public sealed record TileMessage(string RepoId, string Text, bool IsError);
