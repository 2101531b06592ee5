using MlxManager.Core.Profiles;

namespace MlxManager.Core.Engines;

/// <summary>Where a profile field goes for one engine.</summary>
public enum FieldRoute
{
    /// <summary>Reaches the engine on its command line (<see cref="FieldSupport.Flag"/> names the flag).</summary>
    EngineArgument,

    /// <summary>Reaches the engine through its environment.</summary>
    EngineEnvironment,

    /// <summary>
    /// The engine has no start-up flag for it, but accepts it per request: the manager adds it to every
    /// request it sends (<see cref="FieldSupport.RequestField"/> names the JSON field).
    /// </summary>
    RequestDefault,

    /// <summary>Used by the manager itself (naming, listing, checks, chat).</summary>
    Manager,

    /// <summary>The engine has no way to take it: the form should hide or disable the field.</summary>
    NotSupported,
}

/// <summary>How one engine uses one profile field, with a sentence for the form explaining it.</summary>
public sealed record FieldSupport(ProfileField Field, FieldRoute Route, string Explanation)
{
    /// <summary>The engine flag, for <see cref="FieldRoute.EngineArgument"/> (null for extra arguments, which are whole flags).</summary>
    public string? Flag { get; init; }

    /// <summary>Dotted JSON path in a chat request, for <see cref="FieldRoute.RequestDefault"/>, e.g. <c>chat_template_kwargs.enable_thinking</c>.</summary>
    public string? RequestField { get; init; }

    /// <summary>False when the engine cannot use the field at all.</summary>
    public bool IsSupported => Route != FieldRoute.NotSupported;

    public static FieldSupport Argument(ProfileField field, string? flag, string explanation) =>
        new(field, FieldRoute.EngineArgument, explanation) { Flag = flag };

    public static FieldSupport Request(ProfileField field, string requestField, string explanation) =>
        new(field, FieldRoute.RequestDefault, explanation) { RequestField = requestField };

    public static FieldSupport Manager(ProfileField field, string explanation) =>
        new(field, FieldRoute.Manager, explanation);

    public static FieldSupport Environment(ProfileField field, string explanation) =>
        new(field, FieldRoute.EngineEnvironment, explanation);

    public static FieldSupport Unsupported(ProfileField field, string explanation) =>
        new(field, FieldRoute.NotSupported, explanation);
}
