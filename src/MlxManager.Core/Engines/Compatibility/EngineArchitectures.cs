using System.Text.Json;
using System.Text.Json.Serialization;

namespace MlxManager.Core.Engines.Compatibility;

/// <summary>
/// The model types each engine's loader knows, read from <c>engine-architectures.json</c> (embedded next to this
/// file): the one place to update when an engine release adds architectures. Each list names the package version
/// and commit it was read from.
/// </summary>
public sealed record EngineArchitectures
{
    public required IReadOnlyDictionary<string, ArchitectureLoader> Loaders { get; init; }

    /// <summary>By engine key (<c>mlx_lm.server</c>, …): which loader each of its modes uses.</summary>
    public required IReadOnlyDictionary<string, EngineLoaders> Engines { get; init; }

    /// <summary>Encoder/embedding model types: no engine serves them as chat models.</summary>
    public required IReadOnlyList<string> EmbeddingModelTypes { get; init; }

    public required IReadOnlyList<string> EmbeddingModelTypeSuffixes { get; init; }

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip };

    /// <summary>The lists shipped with this build.</summary>
    public static EngineArchitectures Shipped { get; } = Load();

    public static EngineArchitectures Parse(string json) =>
        JsonSerializer.Deserialize<EngineArchitectures>(json, Options) ?? throw new FormatException("engine-architectures.json is empty.");

    private static EngineArchitectures Load()
    {
        using var stream = typeof(EngineArchitectures).Assembly.GetManifestResourceStream("MlxManager.Core.Engines.Compatibility.engine-architectures.json")
                           ?? throw new InvalidOperationException("engine-architectures.json is not embedded in MlxManager.Core.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    /// <summary>The version of <paramref name="engineKey"/>'s package the lists hold for (its own, else its first loader's).</summary>
    public string? ListsVersionFor(string engineKey) =>
        Engines.TryGetValue(engineKey, out var engine) ? engine.Version ?? Loaders[engine.Modes[0].Loader].Version : null;

    /// <summary>True for embedding/encoder model types (<c>bert</c>, <c>xlm-roberta</c>, <c>qwen3_embedding</c>, …).</summary>
    public bool IsEmbeddingType(string modelType)
    {
        var type = modelType.ToLowerInvariant();
        return EmbeddingModelTypes.Contains(type, StringComparer.Ordinal) || EmbeddingModelTypeSuffixes.Any(s => type.EndsWith(s, StringComparison.Ordinal));
    }
}

/// <summary>One engine package's model loader (mlx-lm's or mlx-vlm's): the model types it has a module for.</summary>
/// <param name="Lowercase">The loader lower-cases <c>model_type</c> before looking it up (mlx-vlm does, mlx-lm does not).</param>
/// <param name="NotChat">Types it has a module for that are no chat model, with what they are ("an embedding model").</param>
public sealed record ArchitectureLoader(
    string Package,
    string Version,
    string Source,
    bool Lowercase,
    IReadOnlyList<string> ModelTypes,
    IReadOnlyDictionary<string, string> Remapping,
    IReadOnlyDictionary<string, string> NotChat)
{
    /// <summary>The module name the loader looks for: lower-cased when it does so, then remapped.</summary>
    public string ModuleFor(string modelType)
    {
        var type = Lowercase ? modelType.ToLowerInvariant() : modelType;
        return Remapping.GetValueOrDefault(type, type);
    }
}

/// <summary>How an engine loads models: one mode for mlx_lm.server and mlx_vlm.server, <c>lm</c> and <c>multimodal</c> for mlx-openai-server.</summary>
/// <param name="Label">Short name for chips (<c>mlx_lm</c>).</param>
/// <param name="Version">Version of the engine's own package the facts come from, when not its loader's.</param>
/// <param name="VersionArgument">The argument that makes the executable print its version (mlx-openai-server's click
/// <c>--version</c>); null when it has none (mlx_lm.server and mlx_vlm.server answer argparse's "unrecognized arguments").</param>
public sealed record EngineLoaders(string Label, string Package, IReadOnlyList<EngineLoadMode> Modes, string? Version = null, string? Source = null, string? VersionArgument = null);

/// <param name="Name">The mode's name where the engine has several (mlx-openai-server's <c>--model-type</c>).</param>
/// <param name="Vision">The mode keeps a vision model's image input.</param>
public sealed record EngineLoadMode(string Loader, bool Vision, string? Name = null);
