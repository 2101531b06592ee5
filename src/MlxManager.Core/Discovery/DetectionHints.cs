namespace MlxManager.Core.Discovery;

/// <summary>
/// What the Hub already says about a repository, used only where the files are silent and always labelled
/// as such (a tag is never evidence when the chat template was read).
/// </summary>
/// <param name="HubTags">The repo's tags (<c>expand=tags</c>).</param>
/// <param name="HubSafetensorsParameters">The Hub's <c>safetensors.parameters</c>: parameter count per dtype, e.g. {"BF16": …, "U32": …}.</param>
public sealed record DetectionHints(
    IReadOnlyList<string>? HubTags = null,
    IReadOnlyDictionary<string, long>? HubSafetensorsParameters = null);
