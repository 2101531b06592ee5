using Microsoft.AspNetCore.Mvc;
using MlxManager.Core.Profiles;

namespace MlxManager.Web.Pages.Profiles;

/// <summary>PRO-01: a new profile; <c>?model=</c> (from the Models page) prefills the model, engine, name and max tokens.</summary>
public sealed class NewModel(ProfileEditor editor) : ProfileFormPage(editor)
{
    public async Task OnGetAsync(string? model, CancellationToken cancellationToken)
    {
        var profile = await Editor.NewProfileAsync(model, cancellationToken);
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
