namespace MlxManager.Core.Engines;

/// <summary>
/// The model as the engine will be told about it.
/// </summary>
/// <param name="Reference">What goes after <c>--model</c>/<c>--model-path</c> and into the <c>model</c> field of
/// requests: an HF repo id (found in the HF cache) or a local folder.</param>
/// <param name="IsMultimodal">The model takes images (from its detected characteristics, not from the profile).</param>
public sealed record ResolvedModel(string Reference, bool IsMultimodal = false);
