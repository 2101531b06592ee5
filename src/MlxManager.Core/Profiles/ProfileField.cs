namespace MlxManager.Core.Profiles;

/// <summary>
/// The fields of a <see cref="Profile"/> that describe how it is served. Engines say for each one how
/// they use it (<see cref="Engines.IEngineDefinition.Describe"/>); validation results are keyed by
/// <see cref="ProfileFieldNames.Of"/> so that a form can show them next to the input.
/// </summary>
public enum ProfileField
{
    Name,
    Description,
    ModelRef,
    Engine,
    Host,
    Port,
    ContextLength,
    MaxTokens,
    Temperature,
    TopP,
    TopK,
    MinP,
    RepetitionPenalty,
    Thinking,
    ToolCallParser,
    ReasoningParser,
    TrustRemoteCode,
    SystemPrompt,
    ExtraArguments,
    EnvironmentVariables,
    AutoStart,
    GatewayNames,
    DefaultForModel,
    StartOnDemand,
    UnloadAfterIdleMinutes,
    KeepLoaded,
    MaxConcurrentRequests,
    LoadTimeoutSeconds,
}

/// <summary>Maps fields to the property names used as keys in validation results (and form field names).</summary>
public static class ProfileFieldNames
{
    /// <summary>The <see cref="Profile"/> property name of a field, e.g. <c>"ContextLength"</c>.</summary>
    public static string Of(ProfileField field) => field.ToString();
}
