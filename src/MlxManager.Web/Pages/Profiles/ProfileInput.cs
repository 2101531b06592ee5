using System.ComponentModel.DataAnnotations;
using MlxManager.Core.Profiles;

namespace MlxManager.Web.Pages.Profiles;

/// <summary>The profile form's fields, bound as <c>Input.*</c>. Rules live in <see cref="ProfileValidator"/>, not in attributes.</summary>
public sealed class ProfileInput
{
    /// <summary>The model select's value for "a folder on this machine" (then <see cref="ModelFolder"/> holds the path).</summary>
    public const string FolderChoice = "__folder__";

    public string? Name { get; set; }

    public string? Description { get; set; }

    /// <summary>A library model's reference, <see cref="FolderChoice"/>, or empty.</summary>
    public string? ModelRef { get; set; }

    public string? ModelFolder { get; set; }

    public string? Engine { get; set; }

    /// <summary>Save with an engine the architecture lists say cannot load the model (custom code, a newer engine). Not stored.</summary>
    public bool TryAnyway { get; set; }

    public string? Host { get; set; } = Profile.DefaultHost;

    [Display(Name = "Port")]
    public int Port { get; set; } = Profile.DefaultPort;

    [Display(Name = "Context length")]
    public int? ContextLength { get; set; }

    [Display(Name = "Max tokens")]
    public int MaxTokens { get; set; } = Profile.DefaultMaxTokens;

    [Display(Name = "Temperature")]
    public double? Temperature { get; set; }

    [Display(Name = "Top-p")]
    public double? TopP { get; set; }

    [Display(Name = "Top-k")]
    public int? TopK { get; set; }

    [Display(Name = "Min-p")]
    public double? MinP { get; set; }

    [Display(Name = "Repetition penalty")]
    public double? RepetitionPenalty { get; set; }

    public ThinkingMode Thinking { get; set; }

    public string? ToolCallParser { get; set; }

    public string? ReasoningParser { get; set; }

    public bool TrustRemoteCode { get; set; }

    public string? SystemPrompt { get; set; }

    public string? ExtraArguments { get; set; }

    public string? EnvironmentVariables { get; set; }

    public bool AutoStart { get; set; }

    public string? GatewayNames { get; set; }

    public bool DefaultForModel { get; set; }

    public bool StartOnDemand { get; set; } = true;

    public int? UnloadAfterIdleMinutes { get; set; }

    public bool KeepLoaded { get; set; }

    public int MaxConcurrentRequests { get; set; } = Profile.DefaultMaxConcurrentRequests;

    public int? LoadTimeoutSeconds { get; set; }

    /// <summary>The model the profile names: the chosen library model, or the typed folder.</summary>
    public string EffectiveModelRef => (ModelRef == FolderChoice ? ModelFolder : ModelRef)?.Trim() ?? "";

    public static ProfileInput From(Profile profile, IEnumerable<string> libraryReferences) => new()
    {
        Name = profile.Name,
        Description = profile.Description,
        ModelRef = profile.ModelRef.Length == 0 ? "" : libraryReferences.Contains(profile.ModelRef, StringComparer.Ordinal) ? profile.ModelRef : FolderChoice,
        ModelFolder = libraryReferences.Contains(profile.ModelRef, StringComparer.Ordinal) ? null : profile.ModelRef,
        Engine = profile.Engine,
        Host = profile.Host,
        Port = profile.Port,
        ContextLength = profile.ContextLength,
        MaxTokens = profile.MaxTokens,
        Temperature = profile.Temperature,
        TopP = profile.TopP,
        TopK = profile.TopK,
        MinP = profile.MinP,
        RepetitionPenalty = profile.RepetitionPenalty,
        Thinking = profile.Thinking,
        ToolCallParser = profile.ToolCallParser,
        ReasoningParser = profile.ReasoningParser,
        TrustRemoteCode = profile.TrustRemoteCode,
        SystemPrompt = profile.SystemPrompt,
        ExtraArguments = profile.ExtraArguments,
        EnvironmentVariables = profile.EnvironmentVariables,
        AutoStart = profile.AutoStart,
        GatewayNames = profile.GatewayNames,
        DefaultForModel = profile.DefaultForModel,
        StartOnDemand = profile.StartOnDemand,
        UnloadAfterIdleMinutes = profile.UnloadAfterIdleMinutes,
        KeepLoaded = profile.KeepLoaded,
        MaxConcurrentRequests = profile.MaxConcurrentRequests,
        LoadTimeoutSeconds = profile.LoadTimeoutSeconds,
    };

    /// <summary>Copies the fields onto <paramref name="profile"/> (trimmed; empty texts become null).</summary>
    public Profile ApplyTo(Profile profile)
    {
        profile.Name = Name?.Trim() ?? "";
        profile.Description = Blank(Description);
        profile.ModelRef = EffectiveModelRef;
        profile.Engine = Engine?.Trim() ?? "";
        profile.Host = Host?.Trim() ?? "";
        profile.Port = Port;
        profile.ContextLength = ContextLength;
        profile.MaxTokens = MaxTokens;
        profile.Temperature = Temperature;
        profile.TopP = TopP;
        profile.TopK = TopK;
        profile.MinP = MinP;
        profile.RepetitionPenalty = RepetitionPenalty;
        profile.Thinking = Thinking;
        profile.ToolCallParser = Blank(ToolCallParser)?.Trim();
        profile.ReasoningParser = Blank(ReasoningParser)?.Trim();
        profile.TrustRemoteCode = TrustRemoteCode;
        profile.SystemPrompt = Blank(SystemPrompt);
        profile.ExtraArguments = Blank(ExtraArguments);
        profile.EnvironmentVariables = Blank(EnvironmentVariables);
        profile.AutoStart = AutoStart;
        profile.GatewayNames = Blank(GatewayNames);
        profile.DefaultForModel = DefaultForModel;
        profile.StartOnDemand = StartOnDemand;
        profile.UnloadAfterIdleMinutes = UnloadAfterIdleMinutes;
        profile.KeepLoaded = KeepLoaded;
        profile.MaxConcurrentRequests = MaxConcurrentRequests;
        profile.LoadTimeoutSeconds = LoadTimeoutSeconds;
        return profile;
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Replace("\r\n", "\n", StringComparison.Ordinal);
}
