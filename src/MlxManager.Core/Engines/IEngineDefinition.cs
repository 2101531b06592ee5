using System.Text.Json.Nodes;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Engines;

/// <summary>
/// Everything the manager knows about one inference engine: how to find and start it, which profile
/// fields it can take, how to tell it has loaded, and how it fails. One engine is one class in one file;
/// <see cref="EngineRegistry"/> finds them all.
/// </summary>
public interface IEngineDefinition
{
    /// <summary>Stable key stored in profiles and used in configuration, e.g. <c>mlx_lm.server</c>.</summary>
    string Key { get; }

    string DisplayName { get; }

    /// <summary>File name looked up on PATH, e.g. <c>mlx_lm.server</c>.</summary>
    string ExecutableName { get; }

    /// <summary>The command that installs the engine, e.g. <c>pip install mlx-lm</c>.</summary>
    string InstallHint { get; }

    /// <summary>Whether the engine accepts image input (used to suggest an engine for vision models).</summary>
    bool AcceptsImages { get; }

    /// <summary>Lower comes first when several engines fit a model.</summary>
    int SuggestionOrder { get; }

    /// <summary>
    /// Flags the manager sets for <paramref name="profile"/> from its fields (model, host, port, the fields that
    /// are set) plus flags it reserves because they would break it (e.g. a served-model name the readiness
    /// probe would not know). Extra arguments may not repeat them: a field must not be bypassed, such as
    /// binding to another host than the validated one.
    /// </summary>
    IReadOnlySet<string> FlagsSetByManager(Profile profile);

    /// <summary>How this engine uses <paramref name="field"/>; defined for every <see cref="ProfileField"/>.</summary>
    FieldSupport Describe(ProfileField field);

    /// <summary>
    /// The engine's argument list for <paramref name="profile"/>: host and port always explicit, fields the
    /// engine supports as flags, then the profile's extra arguments last. Never a shell string.
    /// </summary>
    /// <exception cref="FormatException">The profile's extra arguments do not parse (validate first).</exception>
    IReadOnlyList<string> BuildArguments(Profile profile, ResolvedModel model);

    /// <summary>
    /// Variables to add to the engine's environment: the engine's own needs (e.g. unbuffered Python
    /// output, so failures reach the log at once) overridden by the profile's variables.
    /// </summary>
    /// <exception cref="FormatException">The profile's environment variables do not parse (validate first).</exception>
    IReadOnlyDictionary<string, string> BuildEnvironment(Profile profile);

    /// <summary>
    /// Fields the manager must put into every chat request it sends to this engine, for profile values the
    /// engine takes only per request (<see cref="FieldRoute.RequestDefault"/>). A request's own values win.
    /// </summary>
    JsonObject BuildRequestDefaults(Profile profile);

    /// <summary>The readiness probe: a one-token chat completion for <paramref name="model"/>, plus the health endpoint.</summary>
    ReadinessProbe BuildReadinessProbe(ResolvedModel model);

    /// <summary>What one answer of <see cref="ReadinessProbe.HealthPath"/> says about the model being loaded.</summary>
    HealthVerdict InterpretHealth(int statusCode, string body);

    /// <summary>A fresh watcher for this engine's fatal log signature, one per run.</summary>
    IFatalLogWatcher CreateFatalLogWatcher();
}
