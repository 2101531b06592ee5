using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using MlxManager.Core.Data;
using MlxManager.Core.Engines;
using MlxManager.Core.Library;
using MlxManager.Core.Platform;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Profiles;

/// <summary>PRO-01: a new profile; <c>?model=</c> (from the Models page) prefills the model, engine, name and max tokens.</summary>
[Authorize(Policy = AccountPolicies.Admin)]
public sealed class NewModel(
    AppDbContext db,
    ModelLibrary library,
    ProfileModelResolver models,
    ProfileValidator validator,
    EngineRegistry engines,
    EngineCommandBuilder commands,
    ServerSupervisor supervisor,
    ISystemMemoryProbe memory,
    TimeProvider time)
    : ProfileFormPage(db, library, models, validator, engines, commands, supervisor, memory, time)
{
    public async Task OnGetAsync(string? model, CancellationToken cancellationToken)
    {
        var profile = await NewProfileAsync(model, cancellationToken);
        await PrepareAsync(profile, cancellationToken);
        Input = ProfileInput.From(profile, ModelOptions.Select(o => o.Reference));
        if (profile.ModelRef.Length == 0)
        {
            Input.ModelRef = "";
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var profile = Input.ApplyTo(new Profile());
        if (!await TrySaveAsync(profile, cancellationToken))
        {
            return Page();
        }

        TempData["ProfileMessage"] = $"Created the profile \"{profile.Name}\".";
        return RedirectToPage("/Profiles/Index");
    }
}
