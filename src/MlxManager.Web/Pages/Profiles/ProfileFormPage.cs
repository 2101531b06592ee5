using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MlxManager.Core.Discovery;
using MlxManager.Core.Engines;
using MlxManager.Core.Engines.Compatibility;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Web.Pages.Profiles;

/// <summary>Messages of one form field: what blocks saving, what to consider, and how the chosen engine uses it.</summary>
public sealed record FieldNotes(ProfileField Field, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings, string? Explanation, bool OutOfBand)
{
    public string Id => "notes-" + ProfileFieldNames.Of(Field);
}

/// <summary>What the form shows about the profile as typed: the editor's check plus the form's binding errors.</summary>
/// <param name="Check">Validation, the model's facts and compatibility, the memory estimate, the command (<see cref="ProfileEditor.CheckAsync"/>).</param>
public sealed record ProfileReview(ProfileCheck Check, IReadOnlyDictionary<string, IReadOnlyList<string>> BindingErrors)
{
    public ProfileModel Model => Check.Model;

    public ProfileValidationResult Validation => Check.Validation;

    public IEngineDefinition? Engine => Check.Engine;

    public EngineSuggestion? Suggestion => Check.Suggestion;

    public MemoryEstimate? Estimate => Check.Estimate;

    public string? CommandPreview => Check.CommandPreview;

    public string? CommandProblem => Check.CommandProblem;

    public ServerSnapshot? Server => Check.Server;

    public CompatibilityReport? Compatibility => Check.Compatibility;

    /// <summary>The chosen engine's verdict on the model (null until both are known).</summary>
    public EngineFit? EngineFit => Check.EngineFit;

    /// <summary>Fields still empty before the first save: "give it a name" waits until the user tries to save.</summary>
    public IReadOnlySet<ProfileField> Untouched { get; init; } = new HashSet<ProfileField>();

    /// <summary>Errors and warnings of <paramref name="field"/> with the engine's explanation.</summary>
    public FieldNotes NotesFor(ProfileField field)
    {
        var key = "Input." + ProfileFieldNames.Of(field);
        var errors = Untouched.Contains(field)
            ? []
            : Validation.ErrorsFor(field).Concat(BindingErrors.TryGetValue(key, out var binding) ? binding : []).Distinct().ToList();
        return new FieldNotes(field, errors, Validation.WarningsFor(field), Engine?.Describe(field).Explanation, OutOfBand);
    }

    /// <summary>True when any field has an error to show.</summary>
    public bool HasErrors => Enum.GetValues<ProfileField>().Any(f => NotesFor(f).Errors.Count > 0);

    /// <summary>The same review, for the live update's out-of-band swaps.</summary>
    public bool OutOfBand { get; init; }
}

/// <summary>
/// Shared by /profiles/new and /profiles/{id}/edit: binds <see cref="ProfileInput"/>, reviews it (validator,
/// uniqueness, the model on disk, memory estimate, command preview) and saves it. The Live handler answers the
/// form's htmx updates with out-of-band fragments (never re-rendering the inputs the user is typing in).
/// </summary>
public abstract class ProfileFormPage(ProfileEditor editor) : PageModel
{
    [BindProperty]
    public ProfileInput Input { get; set; } = new();

    public IReadOnlyList<ModelOption> ModelOptions { get; private set; } = [];

    public IReadOnlyList<IEngineDefinition> Engines => editor.Engines.All;

    /// <summary>The engines in the order the picker offers them: those that can load the model first.</summary>
    public IReadOnlyList<EngineChoice> EngineChoices => ProfileEditor.EngineChoices(editor.Engines, Review?.Compatibility);

    public ProfileReview Review { get; private set; } = null!;

    /// <summary>0 for a new profile.</summary>
    public int ProfileId { get; protected set; }

    protected ProfileEditor Editor => editor;

    /// <summary>Engines that have no way to take <paramref name="field"/> (space-separated keys), for the form's script.</summary>
    public string UnsupportedOn(ProfileField field) =>
        string.Join(' ', editor.Engines.All.Where(e => !e.Describe(field).IsSupported).Select(e => e.Key));

    /// <summary>Answers the form's live updates: notes, model facts, memory estimate and command preview, out of band.</summary>
    public async Task<IActionResult> OnPostLiveAsync(CancellationToken cancellationToken)
    {
        var profile = Input.ApplyTo(new Profile { Id = ProfileId });
        Review = (await ReviewAsync(profile, cancellationToken)) with { OutOfBand = true, Untouched = EmptyRequiredFields(profile) };
        return Partial("Partials/_Review", Review);
    }

    /// <summary>Fills the options and reviews the profile for a full render (before a save: empty required fields are not errors yet).</summary>
    protected async Task PrepareAsync(Profile profile, CancellationToken cancellationToken, bool submitted = false)
    {
        ModelOptions = editor.ModelOptions();
        Review = await ReviewAsync(profile, cancellationToken);
        if (!submitted)
        {
            Review = Review with { Untouched = EmptyRequiredFields(profile) };
        }
    }

    private static HashSet<ProfileField> EmptyRequiredFields(Profile profile)
    {
        var empty = new HashSet<ProfileField>();
        if (string.IsNullOrWhiteSpace(profile.Name))
        {
            empty.Add(ProfileField.Name);
        }

        if (string.IsNullOrWhiteSpace(profile.ModelRef))
        {
            empty.Add(ProfileField.ModelRef);
        }

        return empty;
    }

    /// <summary>Validates and, when valid, saves <paramref name="profile"/> (new when its id is 0). Errors land in ModelState.</summary>
    protected async Task<bool> TrySaveAsync(Profile profile, CancellationToken cancellationToken)
    {
        await PrepareAsync(profile, cancellationToken, submitted: true);
        foreach (var (key, messages) in Review.Validation.Errors)
        {
            foreach (var message in messages)
            {
                ModelState.AddModelError("Input." + key, message);
            }
        }

        if (!ModelState.IsValid)
        {
            return false;
        }

        if (await editor.SaveAsync(profile, cancellationToken))
        {
            return true;
        }

        ModelState.AddModelError("Input." + nameof(ProfileInput.Name), "Another profile with this name or port was saved at the same moment; check both and save again.");
        return false;
    }

    private async Task<ProfileReview> ReviewAsync(Profile profile, CancellationToken cancellationToken)
    {
        var check = await editor.CheckAsync(profile, Input.TryAnyway, cancellationToken);
        var bindingErrors = ModelState
            .Where(e => e.Value is { Errors.Count: > 0 })
            .ToDictionary(e => e.Key, e => (IReadOnlyList<string>)e.Value!.Errors.Select(x => x.ErrorMessage).ToList(), StringComparer.Ordinal);
        return new ProfileReview(check, bindingErrors);
    }
}
