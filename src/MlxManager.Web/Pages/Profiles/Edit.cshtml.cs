using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using MlxManager.Core.Engines.Compatibility;
using MlxManager.Core.Profiles;

namespace MlxManager.Web.Pages.Profiles;

/// <summary>PRO-01: change a profile. A running server keeps what it was started with until it is restarted.</summary>
public sealed class EditModel(ProfileEditor editor) : ProfileFormPage(editor)
{
    public string OriginalName { get; private set; } = "";

    public override void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        ProfileId = RouteData.Values.TryGetValue("id", out var id) && int.TryParse(id?.ToString(), out var value) ? value : 0;
        base.OnPageHandlerExecuting(context);
    }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        var profile = await Editor.FindAsync(id, forUpdate: false, cancellationToken);
        if (profile is null)
        {
            return NotFound();
        }

        OriginalName = profile.Name;
        await PrepareAsync(profile, cancellationToken);
        Input = ProfileInput.From(profile, ModelOptions.Select(o => o.Reference));
        // A profile the lists say its engine cannot load was saved with "Try anyway": keep it ticked.
        Input.TryAnyway = Review.EngineFit is { Verdict: EngineFitVerdict.Cannot };
        if (Input.TryAnyway)
        {
            await PrepareAsync(profile, cancellationToken);
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(int id, CancellationToken cancellationToken)
    {
        var profile = await Editor.FindAsync(id, forUpdate: true, cancellationToken);
        if (profile is null)
        {
            return NotFound();
        }

        OriginalName = profile.Name;
        Input.ApplyTo(profile);
        if (!await TrySaveAsync(profile, cancellationToken))
        {
            return Page();
        }

        TempData["ProfileMessage"] = Review.Server is { IsActive: true }
            ? $"Saved \"{profile.Name}\". Its server still runs with the old settings until you restart it."
            : $"Saved \"{profile.Name}\".";
        return RedirectToPage("/Profiles/Index");
    }
}
