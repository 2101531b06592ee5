using Htmx;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MlxManager.Core.Library;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Models;

/// <summary>
/// MODELS-01/03, DISC-02/03: search the Hub and the local library with one bar; tiles with sourced badges and a
/// memory verdict. Typing and filter changes ask for the results fragment (htmx, debounced) and push a canonical URL;
/// the fragment polls itself while detections run. Deleting a model is for admins only.
/// </summary>
public sealed class IndexModel(ModelCatalog catalog, ModelLibrary library, IAuthorizationService authorization) : PageModel
{
    public ModelQuery Query { get; private set; } = new();

    /// <summary>The results, or null when the Hub tab loads them after the page (so a slow Hub never delays the page).</summary>
    public ModelsView? View { get; private set; }

    public bool IsAdmin { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Query = ModelQuery.From(Request.Query);
        IsAdmin = await IsAdminAsync();
        var fragment = Request.IsHtmx() && !Request.IsHtmxHistoryRestoreRequest();
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
    public async Task<IActionResult> OnPostDeleteAsync(string repoId, CancellationToken cancellationToken)
    {
        if (!await IsAdminAsync())
        {
            return Forbid();
        }

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

    /// <summary>The Download button's target; the downloads feature replaces this with a real download job.</summary>
    public IActionResult OnPostDownload(string repoId) =>
        Partial("Partials/_TileMessage", new TileMessage(repoId, "Downloads arrive with the downloads issue: nothing was downloaded.", IsError: true));

    private async Task<bool> IsAdminAsync() => (await authorization.AuthorizeAsync(User, AccountPolicies.Admin)).Succeeded;
}

/// <summary>A short message shown inside a tile after one of its buttons.</summary>
public sealed record TileMessage(string RepoId, string Text, bool IsError);
