using System.Collections;
using System.Globalization;
using MlxManager.Core.Engines;
using MlxManager.Core.Library;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers.Processes;

namespace MlxManager.Core.Servers;

/// <summary>What to launch for a run, or why it cannot be launched (one sentence for the user).</summary>
internal sealed record LaunchPlan(string? Problem, DetachedLaunch? Launch, EngineCommand? Command);

/// <summary>
/// Decides what a run launches, before anything runs: the profile must be valid and its model downloaded (engines
/// may not download), the engine's command must build (a missing executable gives the locator's message with the
/// install hint), and the port must be free (else who holds it). Composes the engine's environment: the manager's
/// own minus its private settings, the HF cache the library uses, then the command's variables.
/// </summary>
internal sealed class LaunchPlanner(
    ProfileValidator validator,
    ProfileModelResolver models,
    EngineCommandBuilder commands,
    PortProbe ports,
    HfEnvironment huggingFace,
    CurrentRuns runs,
    RunStore store)
{
    /// <summary>
    /// Variables the manager sets for every engine on top of the engine command's own (the HF cache the library uses,
    /// offline mode when the manager is offline); the profile's variables win over them.
    /// </summary>
    public IReadOnlyDictionary<string, string> ManagedEnvironment
    {
        get
        {
            var managed = new Dictionary<string, string>(StringComparer.Ordinal) { ["HF_HUB_CACHE"] = huggingFace.HubCache };
            if (huggingFace.Offline)
            {
                managed["HF_HUB_OFFLINE"] = "1";
            }

            return managed;
        }
    }

    /// <summary>Plans the launch of <paramref name="run"/>; sets its model and (masked) command line on the way.</summary>
    public async Task<LaunchPlan> PlanAsync(SupervisedRun run, CancellationToken cancellationToken)
    {
        var profile = run.Profile;
        var model = await models.ResolveAsync(profile.ModelRef, cancellationToken).ConfigureAwait(false);
        run.Model = model.Resolved;
        var validation = validator.Validate(profile, model.Facts);
        if (!validation.IsValid)
        {
            var errors = validation.Errors.SelectMany(e => e.Value).ToList();
            return Refused($"The profile is not valid: {string.Join(" ", errors)} Edit the profile first.");
        }

        if (model.Problem is { } modelProblem)
        {
            return Refused(modelProblem);
        }

        var built = commands.Build(profile, model.Resolved);
        if (built.Command is not { } command)
        {
            return Refused(built.Problem ?? "The engine's command could not be built.");
        }

        runs.Change(run, r => r.CommandLine = command.MaskedPreview);
        if (!await ports.IsFreeAsync(profile.Host, profile.Port, cancellationToken).ConfigureAwait(false))
        {
            return Refused(await DescribeTakenPortAsync(profile, cancellationToken).ConfigureAwait(false));
        }

        var workFolder = Path.Combine(store.WorkFolderOf(run.ServerId), "run-" + run.RunId.ToString(CultureInfo.InvariantCulture));
        var launch = new DetachedLaunch(command.Executable, command.Arguments, EngineEnvironment(command.Environment), workFolder, run.OutputPath);
        return new LaunchPlan(null, launch, command);
    }

    /// <summary>The engine's environment: the manager's own minus its private settings, the managed variables, then the command's additions.</summary>
    public Dictionary<string, string> EngineEnvironment(IReadOnlyDictionary<string, string> additions)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("MLXMANAGER_", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("MlxManager__", StringComparison.OrdinalIgnoreCase))
            {
                continue; // the manager's own settings are not the engine's business
            }

            environment[name] = entry.Value as string ?? "";
        }

        // The engines must look in the same HF cache as the manager's library (which may be configured, not inherited).
        foreach (var (name, value) in ManagedEnvironment)
        {
            environment[name] = value;
        }

        foreach (var (name, value) in additions)
        {
            environment[name] = value;
        }

        return environment;
    }

    private static LaunchPlan Refused(string problem) => new(problem, null, null);

    private async Task<string> DescribeTakenPortAsync(Profile profile, CancellationToken cancellationToken)
    {
        var holder = await ports.FindHolderAsync(profile.Port, cancellationToken).ConfigureAwait(false);
        var who = holder is null ? "another program" : holder.Describe();
        if (holder is { Pid: > 0 } && runs.FindActiveByPid(holder.Pid) is { } ours)
        {
            who = $"the server of the profile \"{ours.Profile.Name}\" (pid {holder.Pid})";
        }

        return $"Port {profile.Port} on {profile.Host} is already in use by {who}. Stop it, or give the profile another port.";
    }
}
