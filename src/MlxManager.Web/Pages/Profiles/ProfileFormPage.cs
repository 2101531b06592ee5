using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;
using MlxManager.Core.Discovery;
using MlxManager.Core.Engines;
using MlxManager.Core.Library;
using MlxManager.Core.Platform;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Web.Pages.Profiles;

/// <summary>A model the form offers: its reference (the option value) and a label.</summary>
public sealed record ModelOption(string Reference, string Label, bool Complete);

/// <summary>Messages of one form field: what blocks saving, what to consider, and how the chosen engine uses it.</summary>
public sealed record FieldNotes(ProfileField Field, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings, string? Explanation, bool OutOfBand)
{
    public string Id => "notes-" + ProfileFieldNames.Of(Field);
}

/// <summary>What the form shows about the profile as typed: validation, the model's facts, the memory estimate, the command.</summary>
public sealed record ProfileReview(
    ProfileModel Model,
    ProfileValidationResult Validation,
    IReadOnlyDictionary<string, IReadOnlyList<string>> BindingErrors,
    IEngineDefinition? Engine,
    EngineSuggestion? Suggestion,
    MemoryEstimate? Estimate,
    string? CommandPreview,
    string? CommandProblem,
    ServerSnapshot? Server)
{
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

/// <summary>What the profile form pages need; one per request (it holds the request's <see cref="AppDbContext"/>).</summary>
public sealed record ProfileFormServices(
    AppDbContext Db,
    ModelLibrary Library,
    ProfileModelResolver Models,
    ProfileValidator Validator,
    EngineRegistry Engines,
    EngineCommandBuilder Commands,
    ServerSupervisor Supervisor,
    ISystemMemoryProbe Memory,
    TimeProvider Time);

/// <summary>
/// Shared by /profiles/new and /profiles/{id}/edit: binds <see cref="ProfileInput"/>, reviews it (validator,
/// uniqueness, the model on disk, memory estimate, command preview) and saves it. The Live handler answers the
/// form's htmx updates with out-of-band fragments (never re-rendering the inputs the user is typing in).
/// </summary>
public abstract class ProfileFormPage(ProfileFormServices services) : PageModel
{
    private readonly AppDbContext db = services.Db;
    private readonly ModelLibrary library = services.Library;
    private readonly ProfileModelResolver models = services.Models;
    private readonly ProfileValidator validator = services.Validator;
    private readonly EngineRegistry engines = services.Engines;
    private readonly EngineCommandBuilder commands = services.Commands;
    private readonly ServerSupervisor supervisor = services.Supervisor;
    private readonly ISystemMemoryProbe memory = services.Memory;
    private readonly TimeProvider time = services.Time;

    [BindProperty]
    public ProfileInput Input { get; set; } = new();

    public IReadOnlyList<ModelOption> ModelOptions { get; private set; } = [];

    public IReadOnlyList<IEngineDefinition> Engines => engines.All;

    public ProfileReview Review { get; private set; } = null!;

    /// <summary>0 for a new profile.</summary>
    public int ProfileId { get; protected set; }

    protected AppDbContext Db => db;

    protected TimeProvider Time => time;

    protected EngineRegistry EngineRegistry => engines;

    /// <summary>Engines that have no way to take <paramref name="field"/> (space-separated keys), for the form's script.</summary>
    public string UnsupportedOn(ProfileField field) =>
        string.Join(' ', engines.All.Where(e => !e.Describe(field).IsSupported).Select(e => e.Key));

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
        LoadModelOptions();
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

        var now = time.GetUtcNow();
        profile.UpdatedAt = now;
        if (profile.Id == 0)
        {
            profile.CreatedAt = now;
            db.Profiles.Add(profile);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Two saves raced past the uniqueness check: the unique index caught it.
            ModelState.AddModelError("Input." + nameof(ProfileInput.Name), "Another profile with this name or port was saved at the same moment; check both and save again.");
            db.ChangeTracker.Clear();
            return false;
        }
    }

    /// <summary>Defaults for a new profile serving <paramref name="modelRef"/>: engine, max tokens, a name and a free port.</summary>
    protected async Task<Profile> NewProfileAsync(string? modelRef, CancellationToken cancellationToken)
    {
        var profile = new Profile { ModelRef = modelRef?.Trim() ?? "", Port = await SuggestPortAsync(cancellationToken) };
        if (profile.ModelRef.Length > 0)
        {
            var model = await models.ResolveAsync(profile.ModelRef, cancellationToken);
            profile.Engine = engines.Suggest(model.IsMultimodal).Engine.Key;
            profile.MaxTokens = ProfileDefaults.MaxTokensFor(model.Facts.Thinks == true);
            var name = profile.ModelRef.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? profile.ModelRef;
            var taken = await db.Profiles.AsNoTracking().Select(p => p.Name).ToListAsync(cancellationToken);
            profile.Name = taken.Contains(name, StringComparer.OrdinalIgnoreCase) ? ProfileRules.SuggestCopyName(name, taken) : name;
        }

        return profile;
    }

    /// <summary>The first port from 8080 that no profile uses and nothing on this machine listens on.</summary>
    protected async Task<int> SuggestPortAsync(CancellationToken cancellationToken)
    {
        var used = await db.Profiles.AsNoTracking().Select(p => p.Port).ToListAsync(cancellationToken);
        return ProfileRules.SuggestPort(used, ProfileRules.FirstSuggestedPort, CanListen) ?? ProfileRules.FirstSuggestedPort;
    }

    private static bool CanListen(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false; // in use: suggest the next one
        }
    }

    private void LoadModelOptions()
    {
        ModelOptions = library.GetModels().Models
            .Select(m => new ModelOption(
                ProfileModelResolver.ReferenceFor(m),
                $"{m.RepoId} · {ModelFormat.BinaryBytes(m.SnapshotBytes)}" + (m.Kind == LibrarySourceKind.ExtraFolder ? " · extra folder" : "")
                + (m.Completeness == ModelCompleteness.Complete ? "" : " · incomplete"),
                m.Completeness == ModelCompleteness.Complete))
            .ToList();
    }

    private async Task<ProfileReview> ReviewAsync(Profile profile, CancellationToken cancellationToken)
    {
        var model = await models.ResolveAsync(profile.ModelRef, cancellationToken);
        var validation = validator.Validate(profile, model.Facts);
        var others = await db.Profiles.AsNoTracking().Where(p => p.Id != profile.Id).ToListAsync(cancellationToken);
        validation.Merge(ProfileRules.CheckUniqueness(profile, others));
        if (model.Problem is { } problem && profile.ModelRef.Length > 0 && validation.ErrorsFor(ProfileField.ModelRef).Count == 0)
        {
            if (model.Folder is null)
            {
                validation.AddError(ProfileField.ModelRef, problem);
            }
            else
            {
                validation.AddWarning(ProfileField.ModelRef, problem);
            }
        }

        if (others.FirstOrDefault(p => p.Port == profile.Port) is not null && ProfileRules.SuggestPort(others.Select(p => p.Port), profile.Port, CanListen) is { } free)
        {
            validation.AddWarning(ProfileField.Port, $"Port {free} is free.");
        }

        engines.TryGet(profile.Engine, out var engine);
        var characteristics = model.Characteristics;
        var estimate = characteristics is null ? null : MemoryEstimator.Estimate(characteristics, profile.ContextLength, memory.Read());
        var suggestion = characteristics is null ? null : engines.Suggest(model.IsMultimodal);
        string? preview = null;
        string? commandProblem = null;
        if (engine is not null)
        {
            var built = commands.Preview(profile, model.Resolved);
            if (built.Command is { } command)
            {
                var environment = new Dictionary<string, string>(supervisor.ManagedEnvironment, StringComparer.Ordinal);
                foreach (var (name, value) in command.Environment)
                {
                    environment[name] = value;
                }

                preview = CommandPreview.Render(command.Executable, command.Arguments, environment);
            }

            commandProblem = built.Problem;
        }

        var bindingErrors = ModelState
            .Where(e => e.Value is { Errors.Count: > 0 })
            .ToDictionary(e => e.Key, e => (IReadOnlyList<string>)e.Value!.Errors.Select(x => x.ErrorMessage).ToList(), StringComparer.Ordinal);
        var server = profile.Id == 0 ? null : supervisor.Find(profile.Id);
        return new ProfileReview(model, validation, bindingErrors, engine, suggestion, estimate, preview, commandProblem, server);
    }
}
