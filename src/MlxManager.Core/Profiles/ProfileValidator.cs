using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MlxManager.Core.Engines;
using MlxManager.Core.Gateway;

namespace MlxManager.Core.Profiles;

/// <summary>
/// Checks a profile on its own — everything that needs no database. Uniqueness of name and port against
/// the other profiles is <see cref="ProfileRules.CheckUniqueness"/>; merge both results.
/// </summary>
public sealed class ProfileValidator(EngineRegistry engines)
{
    public const int MaxNameLength = 100;

    /// <summary>The longest per-profile load timeout, a day: anything longer is a typo, not a slow disk.</summary>
    public const int MaxLoadTimeoutSeconds = 86_400;

    /// <summary>Validates <paramref name="profile"/>; <paramref name="model"/> adds the checks that need the model's facts.</summary>
    public ProfileValidationResult Validate(Profile profile, ProfileModelFacts? model = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        model ??= new ProfileModelFacts();
        var result = new ProfileValidationResult();

        CheckName(profile, result);
        CheckModel(profile, result);
        var engine = CheckEngine(profile, result);
        CheckHost(profile, result);
        CheckPort(profile, result);
        CheckContextAndTokens(profile, model, result);
        CheckSampling(profile, result);
        CheckThinking(profile, model, result);
        CheckParsers(profile, engine, result);
        if (profile.TrustRemoteCode)
        {
            result.AddWarning(ProfileField.TrustRemoteCode,
                "Trust remote code lets the model repository run its own Python code on this machine when the model loads. Enable it only for repositories you trust.");
        }

        CheckExtraArguments(profile, engine, result);
        CheckEnvironmentVariables(profile, result);
        CheckGateway(profile, result);
        return result;
    }

    /// <summary>True for loopback addresses and <c>localhost</c>: reachable from this machine only.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    /// <summary>True for a literal IP address or an RFC 1123 host name.</summary>
    public static bool IsValidHost(string host) =>
        IPAddress.TryParse(host, out _) || Uri.CheckHostName(host) == UriHostNameType.Dns && IsHostName(host);

    private static void CheckName(Profile profile, ProfileValidationResult result)
    {
        var name = profile.Name?.Trim() ?? "";
        if (name.Length == 0)
        {
            result.AddError(ProfileField.Name, "Give the profile a name.");
        }
        else if (name.Length > MaxNameLength)
        {
            result.AddError(ProfileField.Name, $"The name is {name.Length} characters long; keep it to {MaxNameLength}.");
        }
    }

    private static void CheckModel(Profile profile, ProfileValidationResult result)
    {
        var model = profile.ModelRef?.Trim() ?? "";
        if (model.Length == 0)
        {
            result.AddError(ProfileField.ModelRef, "Choose a model: a downloaded one, or a folder that holds one.");
            return;
        }

        if (model.StartsWith('/') || model.StartsWith('~') || model.StartsWith('.') || model.Contains('\\'))
        {
            if (!Path.IsPathFullyQualified(model))
            {
                result.AddError(ProfileField.ModelRef, $"\"{model}\" is not an absolute folder path; the engine runs from another working folder.");
            }
            else if (!Directory.Exists(model))
            {
                result.AddError(ProfileField.ModelRef, $"The folder {model} does not exist.");
            }

            return;
        }

        if (!IsRepoId(model))
        {
            result.AddError(ProfileField.ModelRef,
                $"\"{model}\" is neither a Hugging Face repo id (owner/name, e.g. mlx-community/Qwen3-4B-4bit) nor an absolute folder path.");
        }
    }

    private IEngineDefinition? CheckEngine(Profile profile, ProfileValidationResult result)
    {
        if (engines.TryGet(profile.Engine, out var engine))
        {
            return engine;
        }

        result.AddError(ProfileField.Engine,
            $"Unknown engine \"{profile.Engine}\". Choose one of: {string.Join(", ", engines.All.Select(e => e.Key))}.");
        return null;
    }

    private static void CheckHost(Profile profile, ProfileValidationResult result)
    {
        var host = profile.Host?.Trim() ?? "";
        if (host.Length == 0)
        {
            result.AddError(ProfileField.Host, $"Give the address to listen on; {Profile.DefaultHost} keeps the server on this machine.");
            return;
        }

        if (!IsValidHost(host))
        {
            result.AddError(ProfileField.Host, $"\"{host}\" is neither an IP address nor a host name.");
            return;
        }

        if (IPAddress.TryParse(host, out var address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
        {
            result.AddWarning(ProfileField.Host,
                $"{host} listens on every network interface: anyone who can reach this machine can use the model directly, without logging in to the manager. Use {Profile.DefaultHost} unless other machines must reach the engine.");
        }
        else if (!IsLoopback(host))
        {
            result.AddWarning(ProfileField.Host,
                $"{host} is not a loopback address: other machines on that network can use the model directly, without logging in to the manager.");
        }
    }

    private static void CheckPort(Profile profile, ProfileValidationResult result)
    {
        if (profile.Port is < 1 or > 65535)
        {
            result.AddError(ProfileField.Port, $"Port {profile.Port} is out of range: use 1–65535 (e.g. 8080).");
        }
        else if (profile.Port < 1024)
        {
            result.AddWarning(ProfileField.Port, $"Port {profile.Port} is below 1024; most systems let only administrators listen there.");
        }
    }

    private static void CheckContextAndTokens(Profile profile, ProfileModelFacts model, ProfileValidationResult result)
    {
        var window = model.ContextWindow is > 0 ? model.ContextWindow : null;
        if (profile.ContextLength is { } context)
        {
            if (context < 1)
            {
                result.AddError(ProfileField.ContextLength, "The context length must be a positive number of tokens, or empty for the model's default.");
            }
            else if (window is { } w && context > w)
            {
                result.AddError(ProfileField.ContextLength,
                    $"A context of {Tokens(context)} tokens is beyond the model's window of {Tokens(w)} tokens.");
            }
        }

        if (profile.MaxTokens < 1)
        {
            result.AddError(ProfileField.MaxTokens, "Max tokens must be at least 1.");
            return;
        }

        var limit = profile.ContextLength is > 0 ? profile.ContextLength : window;
        if (limit is { } l && profile.MaxTokens >= l)
        {
            result.AddError(ProfileField.MaxTokens,
                $"Max tokens ({Tokens(profile.MaxTokens)}) must be below the context length ({Tokens(l)}) to leave room for the prompt.");
        }

        if (model.Thinks == true && profile.Thinking != ThinkingMode.Off && profile.MaxTokens < ProfileDefaults.ThinkingMaxTokensFloor)
        {
            result.AddWarning(ProfileField.MaxTokens,
                $"This model thinks before it answers and can spend thousands of tokens doing so; with {Tokens(profile.MaxTokens)} max tokens answers may be cut off. {Tokens(ProfileDefaults.ThinkingMaxTokens)} is a safer limit.");
        }
    }

    private static void CheckSampling(Profile profile, ProfileValidationResult result)
    {
        if (profile.Temperature is { } t && (t < 0 || t > 2 || double.IsNaN(t)))
        {
            result.AddError(ProfileField.Temperature, "Temperature goes from 0 (deterministic) to 2.");
        }

        if (profile.TopP is { } p && (p <= 0 || p > 1 || double.IsNaN(p)))
        {
            result.AddError(ProfileField.TopP, "Top-p is a probability above 0 and at most 1 (1 disables it).");
        }

        if (profile.TopK is < 0)
        {
            result.AddError(ProfileField.TopK, "Top-k is a number of tokens: 0 or more (0 disables it).");
        }

        if (profile.MinP is { } m && (m < 0 || m > 1 || double.IsNaN(m)))
        {
            result.AddError(ProfileField.MinP, "Min-p is a probability from 0 (disabled) to 1.");
        }

        if (profile.RepetitionPenalty is { } r && (r <= 0 || r > 2 || double.IsNaN(r)))
        {
            result.AddError(ProfileField.RepetitionPenalty, "Repetition penalty goes above 0 up to 2; 1 means no penalty, 1.05–1.2 is usual.");
        }
    }

    private static void CheckThinking(Profile profile, ProfileModelFacts model, ProfileValidationResult result)
    {
        if (!Enum.IsDefined(profile.Thinking))
        {
            result.AddError(ProfileField.Thinking, "Thinking is on, off or the model's default.");
        }
        else if (profile.Thinking != ThinkingMode.Default && model.Thinks == false)
        {
            result.AddWarning(ProfileField.Thinking, "This model's chat template has no thinking switch; the setting will have no effect.");
        }
    }

    private static void CheckParsers(Profile profile, IEngineDefinition? engine, ProfileValidationResult result)
    {
        CheckParser(ProfileField.ToolCallParser, profile.ToolCallParser, "tool-call parser", MlxOpenAiServer.KnownToolCallParsers);
        CheckParser(ProfileField.ReasoningParser, profile.ReasoningParser, "reasoning parser", MlxOpenAiServer.KnownReasoningParsers);

        void CheckParser(ProfileField field, string? value, string what, IReadOnlyList<string> known)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                return;
            }

            var name = value.Trim();
            if (engine is not null && !engine.Describe(field).IsSupported)
            {
                result.AddError(field, $"{engine.Key} has no {what} option ({engine.Describe(field).Explanation}) Clear this field.");
                return;
            }

            if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                result.AddError(field, $"\"{name}\" is not a {what} name (letters, digits, '_', '-', '.').");
            }
            else if (engine is MlxOpenAiServer && !known.Contains(name, StringComparer.Ordinal))
            {
                result.AddWarning(field, $"\"{name}\" is not one of the {what}s known to the manager ({string.Join(", ", known)}); check the engine's --help.");
            }
        }
    }

    private static void CheckExtraArguments(Profile profile, IEngineDefinition? engine, ProfileValidationResult result)
    {
        var parsed = ShellWords.Parse(profile.ExtraArguments);
        if (!parsed.IsValid)
        {
            result.AddError(ProfileField.ExtraArguments, parsed.Error!);
            return;
        }

        foreach (var warning in parsed.Warnings)
        {
            result.AddWarning(ProfileField.ExtraArguments, warning);
        }

        if (engine is null || parsed.Words.Count == 0)
        {
            return;
        }

        var managed = engine.FlagsSetByManager(profile);
        foreach (var word in parsed.Words)
        {
            if (!word.StartsWith("--", StringComparison.Ordinal) || word.Length < 3)
            {
                continue;
            }

            var flag = EngineDefinition.FlagName(word);
            // Python's argparse also accepts unambiguous prefixes (--ho for --host): treat them the same.
            var clash = managed.FirstOrDefault(m => m == flag || (flag.Length >= 4 && m.StartsWith(flag, StringComparison.Ordinal)));
            if (clash is null)
            {
                continue;
            }

            var owner = Enum.GetValues<ProfileField>()
                .Select(engine.Describe)
                .FirstOrDefault(s => s.Route == FieldRoute.EngineArgument && s.Flag == clash);
            result.AddError(ProfileField.ExtraArguments, owner is null
                ? $"{word} is set by the manager itself and cannot be changed here."
                : $"{word} is set from the {Label(owner.Field)} field; change it there instead.");
        }
    }

    /// <summary>Gateway names one by one (their uniqueness across profiles is <see cref="ProfileRules.CheckUniqueness"/>), and the limits.</summary>
    private static void CheckGateway(Profile profile, ProfileValidationResult result)
    {
        var names = GatewayNames.Parse(profile.GatewayNames);
        foreach (var problem in names.Select(GatewayNames.Problem).OfType<string>())
        {
            result.AddError(ProfileField.GatewayNames, problem);
        }

        var own = profile.Name?.Trim() ?? "";
        foreach (var repeated in names.GroupBy(n => n, GatewayNames.Comparer).Where(g => g.Count() > 1 || GatewayNames.Comparer.Equals(g.Key, own)))
        {
            result.AddError(ProfileField.GatewayNames, GatewayNames.Comparer.Equals(repeated.Key, own)
                ? $"\"{repeated.Key}\" is already this profile's name; clients can use it without listing it here."
                : $"The gateway name \"{repeated.Key}\" is listed twice.");
        }

        if (profile.UnloadAfterIdleMinutes is < 0)
        {
            result.AddError(ProfileField.UnloadAfterIdleMinutes, "Unload after idle is a number of minutes: 0 never unloads, empty takes the manager's default.");
        }

        if (profile.MaxConcurrentRequests is < 1 or > 1024)
        {
            result.AddError(ProfileField.MaxConcurrentRequests, "Max concurrent requests goes from 1 to 1024.");
        }

        if (profile.LoadTimeoutSeconds is < 1 or > MaxLoadTimeoutSeconds)
        {
            result.AddError(ProfileField.LoadTimeoutSeconds, "Load timeout is a number of seconds from 1 to 86400 (a day); leave it empty for the manager's default.");
        }
    }

    private static void CheckEnvironmentVariables(Profile profile, ProfileValidationResult result)
    {
        var parsed = EnvironmentVariableList.Parse(profile.EnvironmentVariables);
        foreach (var error in parsed.Errors)
        {
            result.AddError(ProfileField.EnvironmentVariables, error);
        }

        foreach (var (name, _) in parsed.Variables)
        {
            if (name.StartsWith("DYLD_", StringComparison.Ordinal) || name.StartsWith("LD_", StringComparison.Ordinal))
            {
                result.AddWarning(ProfileField.EnvironmentVariables, $"{name} changes which native libraries the engine loads.");
            }
        }
    }

    private static bool IsRepoId(string value)
    {
        var slash = value.IndexOf('/');
        if (slash <= 0 || slash == value.Length - 1 || value.IndexOf('/', slash + 1) >= 0 || value.Contains(".."))
        {
            return false;
        }

        return value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/')
               && char.IsAsciiLetterOrDigit(value[0]) && char.IsAsciiLetterOrDigit(value[slash + 1]);
    }

    private static bool IsHostName(string host)
    {
        if (host.Length > 253)
        {
            return false;
        }

        foreach (var label in host.TrimEnd('.').Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-'
                || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Tokens(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Label(ProfileField field) => field switch
    {
        ProfileField.ModelRef => "Model",
        ProfileField.ContextLength => "Context length",
        ProfileField.MaxTokens => "Max tokens",
        ProfileField.TopP => "Top-p",
        ProfileField.TopK => "Top-k",
        ProfileField.MinP => "Min-p",
        ProfileField.RepetitionPenalty => "Repetition penalty",
        ProfileField.ToolCallParser => "Tool-call parser",
        ProfileField.ReasoningParser => "Reasoning parser",
        ProfileField.TrustRemoteCode => "Trust remote code",
        _ => field.ToString(),
    };
}
