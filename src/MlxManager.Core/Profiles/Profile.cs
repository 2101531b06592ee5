namespace MlxManager.Core.Profiles;

/// <summary>
/// How to serve one model: which engine, where it listens, and the defaults it generates with.
/// Every field either reaches the engine as a flag it really has, or is used by the manager
/// (see <see cref="Engines.IEngineDefinition.Describe"/>); nothing is stored for nothing.
/// </summary>
public class Profile
{
    public const string DefaultHost = "127.0.0.1";
    public const int DefaultPort = 8080;

    /// <summary>
    /// Engines default to 512 new tokens, which cuts most answers of a thinking model in half.
    /// 4096 suits ordinary models; <see cref="ProfileDefaults.MaxTokensFor"/> suggests more for thinking ones.
    /// </summary>
    public const int DefaultMaxTokens = 4096;

    /// <summary>Default of <see cref="MaxConcurrentRequests"/> (llama-swap uses 10, mlx-openai-server queues 100).</summary>
    public const int DefaultMaxConcurrentRequests = 8;

    public int Id { get; set; }

    /// <summary>Unique among profiles (case-insensitive); see <see cref="ProfileRules.CheckUniqueness"/>.</summary>
    public string Name { get; set; } = "";

    public string? Description { get; set; }

    /// <summary>A Hugging Face repo id (<c>mlx-community/Qwen3-4B-4bit</c>) or an absolute local folder.</summary>
    public string ModelRef { get; set; } = "";

    /// <summary>Key of the engine definition, e.g. <c>mlx_lm.server</c>.</summary>
    public string Engine { get; set; } = Engines.MlxLmServer.EngineKey;

    public string Host { get; set; } = DefaultHost;

    public int Port { get; set; } = DefaultPort;

    /// <summary>Tokens of context the server should allow; null leaves the engine's and model's default.</summary>
    public int? ContextLength { get; set; }

    public int MaxTokens { get; set; } = DefaultMaxTokens;

    public double? Temperature { get; set; }

    public double? TopP { get; set; }

    public int? TopK { get; set; }

    public double? MinP { get; set; }

    public double? RepetitionPenalty { get; set; }

    public ThinkingMode Thinking { get; set; } = ThinkingMode.Default;

    public string? ToolCallParser { get; set; }

    public string? ReasoningParser { get; set; }

    public bool TrustRemoteCode { get; set; }

    /// <summary>Applied by the manager's chat whenever a conversation has no system message of its own.</summary>
    public string? SystemPrompt { get; set; }

    /// <summary>
    /// Further engine arguments, written as on a shell command line; split by
    /// <see cref="Engines.ShellWords.Split"/> into a list and appended last. Never run through a shell.
    /// </summary>
    public string? ExtraArguments { get; set; }

    /// <summary><c>KEY=VALUE</c> lines for the engine's environment; parsed by <see cref="EnvironmentVariables.Parse"/>.</summary>
    public string? EnvironmentVariables { get; set; }

    /// <summary>Start this profile's server when the manager starts.</summary>
    public bool AutoStart { get; set; }

    /// <summary>
    /// Extra names clients may send as <c>model</c> to the gateway (<c>/v1</c>), comma- or line-separated; unique across
    /// profiles and never another profile's name (<see cref="ProfileRules.CheckUniqueness"/>). Read with
    /// <see cref="Gateway.GatewayNames.Parse"/>.
    /// </summary>
    public string? GatewayNames { get; set; }

    /// <summary>The gateway picks this profile when a client asks for its model repo id and several profiles serve that model.</summary>
    public bool DefaultForModel { get; set; }

    /// <summary>A gateway request for this profile starts its server when it is not running (otherwise 409 <c>model_not_running</c>).</summary>
    public bool StartOnDemand { get; set; } = true;

    /// <summary>
    /// Minutes without gateway requests after which its server is stopped; null takes <c>MlxManager:Gateway:DefaultIdleTimeout</c>,
    /// 0 never unloads.
    /// </summary>
    public int? UnloadAfterIdleMinutes { get; set; }

    /// <summary>Never unloaded for idleness (nor, later, evicted to make room).</summary>
    public bool KeepLoaded { get; set; }

    /// <summary>Gateway requests forwarded to this server at once; more wait in a FIFO queue.</summary>
    public int MaxConcurrentRequests { get; set; } = DefaultMaxConcurrentRequests;

    /// <summary>
    /// Seconds a start may take until the first answered completion before it fails (a large model on a slow disk needs
    /// more than a small one); null takes <c>MlxManager:Servers:LoadTimeout</c>.
    /// </summary>
    public int? LoadTimeoutSeconds { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// A copy with a new name and port (both must stay unique), for the "duplicate" action.
    /// The id is left at 0 so that saving it inserts a new row.
    /// </summary>
    public Profile Duplicate(string newName, int newPort, DateTimeOffset now) => new()
    {
        Name = newName,
        Description = Description,
        ModelRef = ModelRef,
        Engine = Engine,
        Host = Host,
        Port = newPort,
        ContextLength = ContextLength,
        MaxTokens = MaxTokens,
        Temperature = Temperature,
        TopP = TopP,
        TopK = TopK,
        MinP = MinP,
        RepetitionPenalty = RepetitionPenalty,
        Thinking = Thinking,
        ToolCallParser = ToolCallParser,
        ReasoningParser = ReasoningParser,
        TrustRemoteCode = TrustRemoteCode,
        SystemPrompt = SystemPrompt,
        ExtraArguments = ExtraArguments,
        EnvironmentVariables = EnvironmentVariables,
        AutoStart = AutoStart,
        DefaultForModel = false, // at most one default per model; gateway names must stay unique, so they are not copied
        StartOnDemand = StartOnDemand,
        UnloadAfterIdleMinutes = UnloadAfterIdleMinutes,
        KeepLoaded = KeepLoaded,
        MaxConcurrentRequests = MaxConcurrentRequests,
        LoadTimeoutSeconds = LoadTimeoutSeconds,
        CreatedAt = now,
        UpdatedAt = now,
    };
}

/// <summary>Whether the model should think before it answers, for models whose chat template allows a choice.</summary>
public enum ThinkingMode
{
    /// <summary>Leave it to the engine and the model's chat template.</summary>
    Default = 0,
    On = 1,
    Off = 2,
}
