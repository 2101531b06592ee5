using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;
using MlxManager.Core.Discovery;
using MlxManager.Core.Engines;
using MlxManager.Core.Engines.Compatibility;
using MlxManager.Core.Library;
using MlxManager.Core.Platform;
using MlxManager.Core.Servers;
using MlxManager.Core.Servers.Processes;

namespace MlxManager.Core.Profiles;

/// <summary>A model the profile form offers: its reference (the option value) and a label.</summary>
public sealed record ModelOption(string Reference, string Label, bool Complete);

/// <summary>An engine the form offers, with whether it can load the chosen model (unknown until the model is known).</summary>
public sealed record EngineChoice(IEngineDefinition Engine, EngineFit? Fit);

/// <summary>What the profile form shows about a profile as typed: validation, the model, compatibility, memory, the command.</summary>
/// <param name="Compatibility">Which engines can load the model; null while no model is chosen.</param>
public sealed record ProfileCheck(
    ProfileModel Model,
    ProfileValidationResult Validation,
    IEngineDefinition? Engine,
    EngineSuggestion? Suggestion,
    MemoryEstimate? Estimate,
    string? CommandPreview,
    string? CommandProblem,
    ServerSnapshot? Server,
    CompatibilityReport? Compatibility)
{
    /// <summary>The chosen engine's verdict on the model.</summary>
    public EngineFit? EngineFit => Engine is null ? null : Compatibility?.For(Engine.Key);
}

/// <summary>
/// The profile form's work, for /profiles/new and /profiles/{id}/edit: defaults for a new profile (each passing the
/// form's own validation), the review of a profile as typed (validator, uniqueness, the model on disk, which engines
/// can load it, memory, command preview) and saving. Scoped: it holds the request's <see cref="AppDbContext"/>.
/// </summary>
public sealed class ProfileEditor(
    AppDbContext db,
    ModelLibrary library,
    ProfileModelResolver models,
    ProfileValidator validator,
    EngineRegistry engines,
    EngineCommandBuilder commands,
    ServerSupervisor supervisor,
    ISystemMemoryProbe memory,
    PortProbe ports,
    EngineCompatibility compatibility,
    TimeProvider time)
{
    public EngineRegistry Engines => engines;

    public TimeProvider Time => time;

    /// <summary>The profile <paramref name="id"/>, tracked when it is to be changed and saved.</summary>
    public Task<Profile?> FindAsync(int id, bool forUpdate, CancellationToken cancellationToken) =>
        (forUpdate ? db.Profiles : db.Profiles.AsNoTracking()).FirstOrDefaultAsync(p => p.Id == id, cancellationToken);

    /// <summary>Every model in the library, for the model picker.</summary>
    public IReadOnlyList<ModelOption> ModelOptions() =>
        library.GetModels().Models
            .Select(m => new ModelOption(
                ProfileModelResolver.ReferenceFor(m),
                $"{m.RepoId} · {ModelFormat.BinaryBytes(m.SnapshotBytes)}" + (m.Kind == LibrarySourceKind.ExtraFolder ? " · extra folder" : "")
                + (m.Completeness == ModelCompleteness.Complete ? "" : " · incomplete"),
                m.Completeness == ModelCompleteness.Complete))
            .ToList();

    /// <summary>The engines in the order to offer them: those that can load the model first, then the rest.</summary>
    public static IReadOnlyList<EngineChoice> EngineChoices(EngineRegistry registry, CompatibilityReport? report) =>
        registry.All.Select(e => new EngineChoice(e, report?.For(e.Key))).OrderBy(c => OfferOrder(c.Fit)).ToList();

    // Loads the model as it is, then: loads it without its images or nobody knows, then: cannot (OrderBy is stable).
    private static int OfferOrder(EngineFit? fit) => fit?.Verdict switch
    {
        EngineFitVerdict.Loads or EngineFitVerdict.CustomCode => 0,
        EngineFitVerdict.Cannot => 2,
        _ => 1,
    };

    /// <summary>Defaults for a new profile serving <paramref name="modelRef"/>: engine, max tokens, a name and a free port.</summary>
    public async Task<Profile> NewProfileAsync(string? modelRef, CancellationToken cancellationToken)
    {
        var profile = new Profile { ModelRef = modelRef?.Trim() ?? "", Port = await SuggestPortAsync(cancellationToken) };
        if (profile.ModelRef.Length > 0)
        {
            var model = await models.ResolveAsync(profile.ModelRef, cancellationToken);
            var report = compatibility.Check(model.Characteristics);
            var suggested = engines.Suggest(model.IsMultimodal).Engine;
            // The suggestion by input kind, unless the lists say that engine cannot load the model and another can.
            profile.Engine = report.For(suggested.Key) is { CanLoad: false } && EngineChoices(engines, report).FirstOrDefault(c => c.Fit?.CanLoad == true) is { } loads
                ? loads.Engine.Key
                : suggested.Key;
            profile.MaxTokens = ProfileDefaults.MaxTokensFor(model.Facts.Thinks == true, model.Facts.ContextWindow);
            var name = profile.ModelRef.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? profile.ModelRef;
            var taken = await db.Profiles.AsNoTracking().Select(p => p.Name).ToListAsync(cancellationToken);
            profile.Name = taken.Contains(name, StringComparer.OrdinalIgnoreCase) ? ProfileRules.SuggestCopyName(name, taken) : name;
        }

        return profile;
    }

    /// <summary>The first port from 8080 that no profile uses and nothing on this machine listens on.</summary>
    public async Task<int> SuggestPortAsync(CancellationToken cancellationToken)
    {
        var used = (await db.Profiles.AsNoTracking().Select(p => p.Port).ToListAsync(cancellationToken)).ToHashSet();
        return await FreePortFromAsync(used, ProfileRules.FirstSuggestedPort, cancellationToken) ?? ProfileRules.FirstSuggestedPort;
    }

    /// <summary>
    /// Reviews <paramref name="profile"/>. An engine that the lists say cannot load the model is an error unless
    /// <paramref name="tryAnyway"/> (custom architectures, engines newer than the lists).
    /// </summary>
    public async Task<ProfileCheck> CheckAsync(Profile profile, bool tryAnyway, CancellationToken cancellationToken)
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

        if (others.Any(p => p.Port == profile.Port) && await FreePortFromAsync(others.Select(p => p.Port).ToHashSet(), profile.Port, cancellationToken) is { } free)
        {
            validation.AddWarning(ProfileField.Port, $"Port {free} is free.");
        }

        engines.TryGet(profile.Engine, out var engine);
        var characteristics = model.Characteristics;
        var report = characteristics is null ? null : compatibility.Check(characteristics);
        if (engine is not null && report?.For(engine.Key) is { } fit)
        {
            AddCompatibilityNotes(validation, fit, report, tryAnyway);
        }

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

                preview = MlxManager.Core.Engines.CommandPreview.Render(command.Executable, command.Arguments, environment);
            }

            commandProblem = built.Problem;
        }

        var server = profile.Id == 0 ? null : supervisor.Find(profile.Id);
        return new ProfileCheck(model, validation, engine, suggestion, estimate, preview, commandProblem, server, report);
    }

    /// <summary>Saves <paramref name="profile"/> (new when its id is 0); false when a concurrent save took its name or port.</summary>
    public async Task<bool> SaveAsync(Profile profile, CancellationToken cancellationToken)
    {
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
            db.ChangeTracker.Clear();
            return false;
        }
    }

    private static void AddCompatibilityNotes(ProfileValidationResult validation, EngineFit fit, CompatibilityReport report, bool tryAnyway)
    {
        switch (fit.Verdict)
        {
            case EngineFitVerdict.Cannot when !tryAnyway:
                var others = report.Loading.Select(e => e.Label).ToList();
                validation.AddError(ProfileField.Engine,
                    $"{fit.Label} cannot load this model: {fit.Reason}." + (others.Count > 0 ? $" Engines that can: {string.Join(", ", others)}." : "")
                    + " Tick \"Try anyway\" to save it regardless (a newer engine than the lists, or custom model code).");
                break;
            case EngineFitVerdict.Cannot:
                validation.AddWarning(ProfileField.Engine, $"Saved with \"Try anyway\": {fit.Reason}.");
                break;
            case EngineFitVerdict.TextOnly:
            case EngineFitVerdict.CustomCode:
                validation.AddWarning(ProfileField.Engine, fit.Reason + ".");
                break;
        }
    }

    private async Task<int?> FreePortFromAsync(IReadOnlySet<int> used, int start, CancellationToken cancellationToken)
    {
        for (var port = Math.Max(1, start); port <= 65535; port++)
        {
            if (!used.Contains(port) && await ports.IsFreeAsync("127.0.0.1", port, cancellationToken))
            {
                return port;
            }
        }

        return null;
    }
}
