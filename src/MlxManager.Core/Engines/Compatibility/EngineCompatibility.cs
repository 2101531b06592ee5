using MlxManager.Core.Discovery;

namespace MlxManager.Core.Engines.Compatibility;

/// <summary>Whether one engine can load a model as a chat model.</summary>
/// <param name="Verdict">Loads, loads text only (a vision model through a text loader), may load (custom code), or cannot.</param>
/// <param name="Mode">The mode it loads in, for engines with several (<c>multimodal</c>).</param>
/// <param name="Reason">One sentence with the evidence: the <c>model_type</c> and the list it is (not) in.</param>
public sealed record EngineFit(string EngineKey, string Label, EngineFitVerdict Verdict, string? Mode, string Reason)
{
    public bool CanLoad => Verdict is EngineFitVerdict.Loads or EngineFitVerdict.TextOnly or EngineFitVerdict.CustomCode;
}

public enum EngineFitVerdict
{
    Loads,

    /// <summary>The engine knows the architecture but drops the vision weights (mlx_lm with a vision model).</summary>
    TextOnly,

    /// <summary>config.json names a <c>model_file</c>: the engine imports the model's own code, which may or may not work.</summary>
    CustomCode,

    /// <summary>Not enough is known (no config.json, no model_type).</summary>
    Unknown,

    Cannot,
}

/// <summary>Which engines can load a model, for the Models tile's chip and the profile form.</summary>
/// <param name="IsEmbedding">An embedding/encoder model: no engine serves it as a chat model.</param>
public sealed record CompatibilityReport(IReadOnlyList<EngineFit> Engines, bool IsEmbedding, string Evidence)
{
    public IEnumerable<EngineFit> Loading => Engines.Where(e => e.CanLoad);

    public bool AnyEngine => Engines.Any(e => e.CanLoad);

    /// <summary>The chip's text: <c>mlx_lm · mlx_vlm</c>, <c>embedding model · no engine</c>, <c>no engine</c>.</summary>
    public string Summary =>
        Engines.All(e => e.Verdict == EngineFitVerdict.Unknown) ? "engines: unknown"
        : (IsEmbedding ? "embedding model · " : "") + (AnyEngine ? string.Join(" · ", Loading.Select(e => e.Verdict == EngineFitVerdict.TextOnly ? e.Label + " (text only)" : e.Label)) : "no engine");

    /// <summary>The chip's tooltip: the evidence, then one line per engine.</summary>
    public string Tooltip => string.Join("\n", Engines.Select(e => $"{e.Label}: {e.Reason}").Prepend(Evidence));

    public EngineFit? For(string engineKey) => Engines.FirstOrDefault(e => e.EngineKey == engineKey);
}

/// <summary>
/// Decides from a model's detected <c>model_type</c> (and <c>model_file</c>, vision) which engines can load it, using
/// <see cref="EngineArchitectures"/>. Worked out when shown, so a new list applies without detecting again.
/// </summary>
public sealed class EngineCompatibility(EngineArchitectures lists)
{
    public static EngineCompatibility Shipped { get; } = new(EngineArchitectures.Shipped);

    public EngineArchitectures Lists => lists;

    public CompatibilityReport Check(ModelCharacteristics? model)
    {
        if (model is null)
        {
            return Unknown("not detected yet");
        }

        if (model.CustomModelFile is { } file)
        {
            var reason = $"config.json: model_file = \"{file}\": a custom architecture in the model's own code; the engine imports it (may need --trust-remote-code)";
            return new CompatibilityReport(lists.Engines.Select(e => new EngineFit(e.Key, e.Value.Label, EngineFitVerdict.CustomCode, null, reason)).ToList(), false, reason);
        }

        if (model.ModelType is not { Length: > 0 } type)
        {
            return Unknown(model.Problems.Count > 0 || model.Architectures.Count > 0 ? "config.json has no model_type" : "no config.json was read");
        }

        var evidence = $"config.json: model_type = \"{type}\"";
        var vision = model.Vision?.Value == true;
        if (lists.IsEmbeddingType(type))
        {
            var why = $"{evidence}: an embedding model; no engine serves it as a chat model";
            return new CompatibilityReport(lists.Engines.Select(e => new EngineFit(e.Key, e.Value.Label, EngineFitVerdict.Cannot, null, why)).ToList(), true, why);
        }

        var fits = lists.Engines.Select(e => Fit(e.Key, e.Value, type, vision)).ToList();
        if (fits.All(f => !f.CanLoad))
        {
            var loaders = string.Join(" or ", lists.Loaders.Keys.Select(k => k + "'s"));
            evidence += $"; not in {loaders} chat models";
        }

        return new CompatibilityReport(fits, false, evidence);
    }

    private EngineFit Fit(string key, EngineLoaders engine, string type, bool vision)
    {
        // Prefer the mode that keeps the model's input (vision first for a vision model), as the engine definitions do.
        var modes = engine.Modes.OrderBy(m => m.Vision == vision ? 0 : 1).ToList();
        EngineFit? textOnly = null;
        string? refusal = null;
        foreach (var mode in modes)
        {
            var loader = lists.Loaders[mode.Loader];
            var module = loader.ModuleFor(type);
            var via = module == type ? "" : $" (as {module})";
            var list = $"{mode.Loader} {loader.Version}";
            if (!loader.ModelTypes.Contains(module, StringComparer.Ordinal))
            {
                refusal ??= $"\"{type}\" is not in {list}'s models";
                continue;
            }

            if (loader.NotChat.TryGetValue(module, out var what))
            {
                refusal ??= $"\"{type}\" is {what} in {list}, not a chat model";
                continue;
            }

            if (vision && !mode.Vision)
            {
                textOnly ??= new EngineFit(key, engine.Label, EngineFitVerdict.TextOnly, mode.Name, $"{list} loads \"{type}\"{via} as text only: the vision weights are dropped");
                continue;
            }

            return new EngineFit(key, engine.Label, EngineFitVerdict.Loads, mode.Name, $"{list} loads \"{type}\"{via}" + (vision ? " with vision" : ""));
        }

        return textOnly ?? new EngineFit(key, engine.Label, EngineFitVerdict.Cannot, null, refusal ?? "no loader");
    }

    private CompatibilityReport Unknown(string why) =>
        new(lists.Engines.Select(e => new EngineFit(e.Key, e.Value.Label, EngineFitVerdict.Unknown, null, why)).ToList(), false, why);
}
