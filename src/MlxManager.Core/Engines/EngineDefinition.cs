using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Engines;

/// <summary>
/// Shared plumbing for engine definitions: the field table, extra arguments, environment, request
/// defaults and the completion probe. A concrete engine supplies its field table and its flags.
/// </summary>
public abstract class EngineDefinition : IEngineDefinition
{
    private IReadOnlyDictionary<ProfileField, FieldSupport>? _fields;

    public abstract string Key { get; }

    public abstract string DisplayName { get; }

    public abstract string ExecutableName { get; }

    public abstract string InstallHint { get; }

    public abstract bool AcceptsImages { get; }

    public abstract int SuggestionOrder { get; }

    /// <inheritdoc />
    public IReadOnlySet<string> FlagsSetByManager(Profile profile)
    {
        var arguments = new List<string>(32);
        AddArguments(arguments, profile, new ResolvedModel(profile.ModelRef));
        var flags = new HashSet<string>(ReservedFlags, StringComparer.Ordinal);
        foreach (var argument in arguments)
        {
            if (argument.StartsWith("--", StringComparison.Ordinal))
            {
                flags.Add(FlagName(argument));
            }
        }

        return flags;
    }

    /// <summary>The flag part of <c>--flag=value</c>, or the argument itself.</summary>
    public static string FlagName(string argument)
    {
        var equals = argument.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? argument : argument[..equals];
    }

    /// <summary>Flags never accepted in extra arguments, though the manager may not set them itself.</summary>
    protected virtual IEnumerable<string> ReservedFlags => [];

    private IReadOnlyDictionary<ProfileField, FieldSupport> Fields => _fields ??= BuildFieldTable();

    /// <inheritdoc />
    public FieldSupport Describe(ProfileField field) =>
        Fields.TryGetValue(field, out var support)
            ? support
            : throw new InvalidOperationException($"{Key} does not say how it uses {field}.");

    /// <inheritdoc />
    public IReadOnlyList<string> BuildArguments(Profile profile, ResolvedModel model)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(model);
        var extra = ShellWords.Split(profile.ExtraArguments);
        var arguments = new List<string>(32);
        AddArguments(arguments, profile, model);
        arguments.AddRange(extra);
        return arguments;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> BuildEnvironment(Profile profile)
    {
        var parsed = EnvironmentVariableList.Parse(profile.EnvironmentVariables);
        if (!parsed.IsValid)
        {
            throw new FormatException(string.Join(" ", parsed.Errors));
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // Python block-buffers stdout into a file; a traceback must reach the log when it happens.
            ["PYTHONUNBUFFERED"] = "1",
        };
        foreach (var (name, value) in parsed.Variables)
        {
            environment[name] = value;
        }

        return environment;
    }

    /// <inheritdoc />
    public JsonObject BuildRequestDefaults(Profile profile)
    {
        var defaults = new JsonObject();
        foreach (var support in Fields.Values)
        {
            if (support.Route != FieldRoute.RequestDefault || support.RequestField is null)
            {
                continue;
            }

            var value = RequestValue(profile, support.Field);
            if (value is not null)
            {
                SetPath(defaults, support.RequestField, value);
            }
        }

        return defaults;
    }

    /// <inheritdoc />
    public ReadinessProbe BuildReadinessProbe(ResolvedModel model)
    {
        // One token, not streamed, deterministic: it returns only once the model has been loaded and has
        // generated, which is the one proof that works for every engine.
        var body = new JsonObject
        {
            ["model"] = model.Reference,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }),
            ["max_tokens"] = 1,
            ["temperature"] = 0,
            ["stream"] = false,
        };
        return new ReadinessProbe("/health", HealthMeaning, "/v1/chat/completions", body.ToJsonString());
    }

    /// <summary>What this engine's health endpoint proves, for <see cref="ReadinessProbe.HealthMeaning"/>.</summary>
    protected abstract string HealthMeaning { get; }

    /// <inheritdoc />
    public abstract HealthVerdict InterpretHealth(int statusCode, string body);

    /// <inheritdoc />
    public virtual IFatalLogWatcher CreateFatalLogWatcher() => new NoFatalLogSignature();

    /// <summary>How this engine uses each field not common to all engines (see <see cref="BuildFieldTable"/>).</summary>
    protected abstract IEnumerable<FieldSupport> DescribeEngineFields();

    /// <summary>Adds model, host, port and field flags (not the extra arguments) in the engine's order.</summary>
    protected abstract void AddArguments(List<string> arguments, Profile profile, ResolvedModel model);

    /// <summary>Formats a number the way Python's <c>float()</c>/<c>int()</c> read it, whatever the manager's culture.</summary>
    protected static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <inheritdoc cref="Number(double)"/>
    protected static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Adds <c>flag value</c> when the value is set.</summary>
    protected static void AddOption(List<string> arguments, string flag, double? value)
    {
        if (value is { } v)
        {
            arguments.Add(flag);
            arguments.Add(Number(v));
        }
    }

    /// <inheritdoc cref="AddOption(List{string}, string, double?)"/>
    protected static void AddOption(List<string> arguments, string flag, int? value)
    {
        if (value is { } v)
        {
            arguments.Add(flag);
            arguments.Add(Number(v));
        }
    }

    /// <inheritdoc cref="AddOption(List{string}, string, double?)"/>
    protected static void AddOption(List<string> arguments, string flag, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            arguments.Add(flag);
            arguments.Add(value.Trim());
        }
    }

    private IReadOnlyDictionary<ProfileField, FieldSupport> BuildFieldTable()
    {
        var table = new Dictionary<ProfileField, FieldSupport>
        {
            [ProfileField.Name] = FieldSupport.Manager(ProfileField.Name, "Names the profile in the manager."),
            [ProfileField.Description] = FieldSupport.Manager(ProfileField.Description, "Shown in the manager's lists."),
            [ProfileField.Engine] = FieldSupport.Manager(ProfileField.Engine, "Chooses which program the manager starts."),
            [ProfileField.SystemPrompt] = FieldSupport.Manager(
                ProfileField.SystemPrompt,
                "The manager's chat sends it as the system message whenever a conversation has none of its own."),
            [ProfileField.ExtraArguments] = FieldSupport.Argument(
                ProfileField.ExtraArguments,
                null,
                "Appended last to the engine's arguments, split like a shell would but passed as a list."),
            [ProfileField.EnvironmentVariables] = FieldSupport.Environment(
                ProfileField.EnvironmentVariables,
                "Added to the engine's environment."),
            [ProfileField.AutoStart] = FieldSupport.Manager(ProfileField.AutoStart, "The manager starts this server when it starts."),
            [ProfileField.GatewayNames] = FieldSupport.Manager(ProfileField.GatewayNames, "Further names clients of the gateway (/v1) may ask for."),
            [ProfileField.DefaultForModel] = FieldSupport.Manager(
                ProfileField.DefaultForModel,
                "The gateway picks this profile when a client asks for the model's repo id and several profiles serve it."),
            [ProfileField.StartOnDemand] = FieldSupport.Manager(ProfileField.StartOnDemand, "The gateway starts this server when a request asks for it; off, such requests are refused as not running."),
            [ProfileField.UnloadAfterIdleMinutes] = FieldSupport.Manager(
                ProfileField.UnloadAfterIdleMinutes,
                "The manager stops this server after that long without gateway requests."),
            [ProfileField.KeepLoaded] = FieldSupport.Manager(ProfileField.KeepLoaded, "The manager never unloads this server for idleness."),
            [ProfileField.MaxConcurrentRequests] = FieldSupport.Manager(
                ProfileField.MaxConcurrentRequests,
                "The gateway forwards at most this many requests at once; the others wait in line."),
            [ProfileField.LoadTimeoutSeconds] = FieldSupport.Manager(
                ProfileField.LoadTimeoutSeconds,
                "The manager fails a start that has not answered a one-token completion within this time."),
        };
        foreach (var support in DescribeEngineFields())
        {
            table[support.Field] = support;
        }

        var missing = Enum.GetValues<ProfileField>().Where(f => !table.ContainsKey(f)).ToList();
        return missing.Count == 0
            ? table
            : throw new InvalidOperationException($"{GetType().Name} does not say how it uses {string.Join(", ", missing)}.");
    }

    private static JsonNode? RequestValue(Profile profile, ProfileField field) => field switch
    {
        ProfileField.Temperature => profile.Temperature is { } t ? JsonValue.Create(t) : null,
        ProfileField.TopP => profile.TopP is { } p ? JsonValue.Create(p) : null,
        ProfileField.TopK => profile.TopK is { } k ? JsonValue.Create(k) : null,
        ProfileField.MinP => profile.MinP is { } m ? JsonValue.Create(m) : null,
        ProfileField.RepetitionPenalty => profile.RepetitionPenalty is { } r ? JsonValue.Create(r) : null,
        ProfileField.MaxTokens => JsonValue.Create(profile.MaxTokens),
        ProfileField.Thinking => profile.Thinking switch
        {
            ThinkingMode.On => JsonValue.Create(true),
            ThinkingMode.Off => JsonValue.Create(false),
            _ => null,
        },
        _ => throw new InvalidOperationException($"{field} cannot be sent per request."),
    };

    private static void SetPath(JsonObject root, string dottedPath, JsonNode value)
    {
        var parts = dottedPath.Split('.');
        var node = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (node[parts[i]] is not JsonObject child)
            {
                child = new JsonObject();
                node[parts[i]] = child;
            }

            node = child;
        }

        node[parts[^1]] = value;
    }

    /// <summary>Serialises a JSON object compactly, for flags that take JSON (e.g. chat template arguments).</summary>
    protected static string Json(JsonObject value) => value.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
}
