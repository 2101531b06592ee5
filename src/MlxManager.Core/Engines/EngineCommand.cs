using MlxManager.Core.Profiles;

namespace MlxManager.Core.Engines;

/// <summary>
/// Exactly what the supervisor starts: an executable, an argument list and environment additions.
/// Never a shell string; <see cref="Preview"/> renders it for display only.
/// </summary>
public sealed record EngineCommand(string Executable, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>The command as one POSIX-quoted line, environment first, for the "command preview". Display only.</summary>
    public string Preview => CommandPreview.Render(Executable, Arguments, Environment);

    /// <summary>
    /// The preview with every environment value masked (<c>HF_TOKEN=*** …</c>): what the run log and the server tiles
    /// show, since every member may read them. Only the admin's profile form shows the values.
    /// </summary>
    public string MaskedPreview => CommandPreview.Render(Executable, Arguments, Environment, maskValues: true);
}

/// <summary>Renders a command for display, quoted so that pasting it into a POSIX shell runs the same thing.</summary>
public static class CommandPreview
{
    /// <summary>What a masked environment value reads.</summary>
    public const string MaskedValue = "***";

    /// <summary>
    /// <c>KEY=value … executable arg …</c>, each part quoted with <see cref="ShellWords.Quote"/>. Environment
    /// variables are listed in name order so the preview is stable; with <paramref name="maskValues"/> their values
    /// read <see cref="MaskedValue"/> (names only: environment values may be secrets such as <c>HF_TOKEN</c>).
    /// </summary>
    public static string Render(string executable, IEnumerable<string> arguments, IEnumerable<KeyValuePair<string, string>>? environment = null, bool maskValues = false)
    {
        var parts = new List<string>();
        if (environment is not null)
        {
            parts.AddRange(environment
                .OrderBy(e => e.Key, StringComparer.Ordinal)
                .Select(e => e.Key + "=" + (maskValues ? MaskedValue : ShellWords.Quote(e.Value))));
        }

        parts.Add(ShellWords.Quote(executable));
        parts.AddRange(arguments.Select(ShellWords.Quote));
        return string.Join(' ', parts);
    }
}

/// <summary>
/// Turns a profile into an <see cref="EngineCommand"/>: finds the engine and its executable and builds
/// the argument list and environment. Failures come back as one sentence for the user, never as exceptions.
/// </summary>
public sealed class EngineCommandBuilder(EngineRegistry engines, EngineExecutableLocator locator)
{
    /// <summary>Builds the command for <paramref name="profile"/> serving <paramref name="model"/>.</summary>
    public EngineCommandResult Build(Profile profile, ResolvedModel model)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (!engines.TryGet(profile.Engine, out var engine))
        {
            return EngineCommandResult.Failed($"The profile uses an unknown engine '{profile.Engine}'.");
        }

        var extra = ShellWords.Parse(profile.ExtraArguments);
        if (!extra.IsValid)
        {
            return EngineCommandResult.Failed($"Extra arguments: {extra.Error}");
        }

        var environment = EnvironmentVariableList.Parse(profile.EnvironmentVariables);
        if (!environment.IsValid)
        {
            return EngineCommandResult.Failed($"Environment variables: {string.Join(" ", environment.Errors)}");
        }

        var executable = locator.Resolve(engine);
        if (!executable.IsFound)
        {
            return EngineCommandResult.Failed(executable.Problem!);
        }

        return new EngineCommandResult(
            new EngineCommand(executable.ExecutablePath!, engine.BuildArguments(profile, model), engine.BuildEnvironment(profile)),
            null);
    }

    /// <summary>
    /// The command line to show in the profile form, even when the executable has not been found yet
    /// (then its bare name stands in). Null with a reason when the profile's arguments do not parse.
    /// </summary>
    public EngineCommandResult Preview(Profile profile, ResolvedModel model)
    {
        var built = Build(profile, model);
        if (built.Command is not null || !engines.TryGet(profile.Engine, out var engine)
            || !ShellWords.Parse(profile.ExtraArguments).IsValid
            || !EnvironmentVariableList.Parse(profile.EnvironmentVariables).IsValid)
        {
            return built;
        }

        return new EngineCommandResult(
            new EngineCommand(engine.ExecutableName, engine.BuildArguments(profile, model), engine.BuildEnvironment(profile)),
            built.Problem);
    }
}

/// <summary>A command, or the reason there is none. A preview may carry both (command shown, executable missing).</summary>
public sealed record EngineCommandResult(EngineCommand? Command, string? Problem)
{
    internal static EngineCommandResult Failed(string problem) => new(null, problem);
}
