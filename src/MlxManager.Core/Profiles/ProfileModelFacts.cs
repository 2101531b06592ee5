namespace MlxManager.Core.Profiles;

/// <summary>
/// What validation needs to know about the profile's model, as detected from its files (Discovery).
/// Unknown values are null and their checks are skipped.
/// </summary>
/// <param name="ContextWindow">The model's maximum context in tokens (e.g. <c>max_position_embeddings</c>, or its <c>text_config</c>'s for vision models).</param>
/// <param name="Thinks">The model thinks before answering (its chat template has a thinking section).</param>
/// <param name="IsMultimodal">The model takes images.</param>
public sealed record ProfileModelFacts(int? ContextWindow = null, bool? Thinks = null, bool? IsMultimodal = null);
