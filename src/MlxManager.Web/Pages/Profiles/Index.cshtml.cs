using Htmx;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;
using MlxManager.Core.Discovery;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Profiles;

/// <summary>One row of the profiles list.</summary>
/// <param name="Profile">The profile.</param>
/// <param name="Badges">What its model is (empty when the model is not on this machine).</param>
/// <param name="ModelProblem">Why its model cannot be served now, if so.</param>
/// <param name="Server">Its server, when there is one.</param>
public sealed record ProfileRow(Profile Profile, IReadOnlyList<Badge> Badges, string? ModelProblem, ServerSnapshot? Server);

/// <summary>
/// PRO-01/02: every active user sees the profiles; administrators create, edit, duplicate and delete them (the
/// original let anyone; here the pages and handlers require the admin policy, and the page says so).
/// </summary>
public sealed class IndexModel(AppDbContext db, ProfileModelResolver models, IServerDirectory servers, IAuthorizationService authorization, TimeProvider time)
    : PageModel
{
    public IReadOnlyList<ProfileRow> Rows { get; private set; } = [];

    public bool CanManage { get; private set; }

    [TempData(Key = "ProfileMessage")]
    public string? Message { get; set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    /// <summary>Copies a profile under a new name and the next free port, then opens the copy for editing.</summary>
    [AdminOnly]
    public async Task<IActionResult> OnPostDuplicateAsync(int id, CancellationToken cancellationToken)
    {
        var original = await db.Profiles.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (original is null)
        {
            return NotFound();
        }

        var others = await db.Profiles.AsNoTracking().Select(p => new { p.Name, p.Port }).ToListAsync(cancellationToken);
        var port = ProfileRules.SuggestPort(others.Select(p => p.Port), original.Port + 1) ?? ProfileRules.SuggestPort(others.Select(p => p.Port), 1024);
        if (port is null)
        {
            Message = "No free port is left for a copy.";
            return RedirectToPage();
        }

        var copy = original.Duplicate(ProfileRules.SuggestCopyName(original.Name, others.Select(p => p.Name)), port.Value, time.GetUtcNow());
        copy.AutoStart = false; // two servers of one model starting at launch is rarely what a copy is for
        db.Profiles.Add(copy);
        await db.SaveChangesAsync(cancellationToken);
        Message = $"Copied \"{original.Name}\" to \"{copy.Name}\" on port {copy.Port}. Change what should differ and save.";
        return Request.IsHtmx()
            ? new HtmxRedirectResult(Url.Page("/Profiles/Edit", new { id = copy.Id })!)
            : RedirectToPage("/Profiles/Edit", new { id = copy.Id });
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        CanManage = await authorization.IsAdminAsync(User);
        var profiles = await db.Profiles.AsNoTracking().ToListAsync(cancellationToken);
        var rows = new List<ProfileRow>(profiles.Count);
        foreach (var profile in profiles.OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase))
        {
            var model = await models.ResolveAsync(profile.ModelRef, cancellationToken);
            rows.Add(new ProfileRow(profile, model.Characteristics?.Badges ?? [], model.Problem, servers.Find(profile.Id)));
        }

        Rows = rows;
    }

    /// <summary>A 200 with <c>HX-Redirect</c>: htmx navigates the whole page.</summary>
    private sealed class HtmxRedirectResult(string location) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context)
        {
            context.HttpContext.Response.Htmx(headers => headers.Redirect(location));
            return Task.CompletedTask;
        }
    }
}
