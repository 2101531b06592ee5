using System.Text.Json.Serialization;

namespace MlxManager.Core.Discovery;

/// <summary>A detected value and where it came from, e.g. <c>config.json: text_config.max_position_embeddings = 131072</c>.</summary>
public sealed record Sourced<T>(T Value, string Source);

/// <summary>
/// What detection learned about one model repository at one revision. Every value carries its provenance;
/// a value that could not be determined is null. Plain records so the whole thing round-trips through
/// System.Text.Json (the detection cache stores it per repo@commit).
/// </summary>
public sealed record ModelCharacteristics
{
    /// <summary>Bumped whenever detection changes in a way that makes cached results stale.</summary>
    public int DetectorVersion { get; init; } = ModelCharacteristicsDetector.Version;

    public string? RepoId { get; init; }

    /// <summary>Readable family name, e.g. "Qwen3", "Gemma 3", "gpt-oss".</summary>
    public Sourced<string>? Architecture { get; init; }

    /// <summary>Raw <c>model_type</c> from config.json.</summary>
    public string? ModelType { get; init; }

    /// <summary>Raw <c>architectures</c> from config.json.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];

    /// <summary>
    /// <c>model_file</c> from config.json: a Python file in the model folder holding a custom architecture, which
    /// mlx_lm and mlx_vlm import instead of their own modules (see Engines/Compatibility).
    /// </summary>
    public string? CustomModelFile { get; init; }

    public ParameterCount? Parameters { get; init; }

    public ContextWindow? Context { get; init; }

    public Sourced<bool>? Vision { get; init; }

    public Sourced<bool>? Audio { get; init; }

    public QuantizationInfo? Quantization { get; init; }

    public KvCacheEstimate? KvCache { get; init; }

    public Capability Tools { get; init; } = Capability.Unknown("no chat template was read");

    public Capability Thinking { get; init; } = Capability.Unknown("no chat template was read");

    /// <summary>
    /// The chat template opens a <c>&lt;think&gt;</c> block in the generation prompt (see
    /// <see cref="ChatTemplateFacts.OpensThinkingInPrompt"/>): the chat reads the answer as thinking until <c>&lt;/think&gt;</c>.
    /// </summary>
    public bool ThinkingOpensInPrompt { get; init; }

    /// <summary>Sum of the sizes of the weight files (<c>*.safetensors</c>).</summary>
    public Sourced<long>? WeightBytes { get; init; }

    /// <summary>Files that could not be read or parsed, with the reason; detection continued without them.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    public IReadOnlyList<Badge> Badges { get; init; } = [];
}

/// <summary>How a parameter count was obtained, from most to least exact.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ParameterCountMethod>))]
public enum ParameterCountMethod
{
    /// <summary>Summed from the tensor shapes in the safetensors headers (packed quantized weights unpacked).</summary>
    SafetensorsHeaders,

    /// <summary>From the Hub's safetensors metadata (per-dtype counts), packed weights unpacked.</summary>
    HubSafetensorsMetadata,

    /// <summary>From <c>metadata.total_parameters</c> in model.safetensors.index.json.</summary>
    IndexTotalParameters,

    /// <summary>Estimated from <c>metadata.total_size</c> divided by the bytes per parameter.</summary>
    IndexTotalSize,

    /// <summary>Estimated from the text model's dimensions in config.json.</summary>
    ConfigEstimate,
}

public sealed record ParameterCount(long Value, ParameterCountMethod Method, string Source)
{
    public bool IsEstimate => Method is ParameterCountMethod.IndexTotalSize or ParameterCountMethod.ConfigEstimate;
}

/// <summary>The context window and what shapes it.</summary>
/// <param name="Tokens">Maximum positions the model was built for.</param>
/// <param name="SlidingWindow">Present when some layers only attend to the last N tokens and that actually limits memory.</param>
/// <param name="RopeScaling">A note on rope scaling when configured, e.g. "yarn ×32 (original 4096)".</param>
public sealed record ContextWindow(int Tokens, string Source, SlidingWindowInfo? SlidingWindow, Sourced<string>? RopeScaling);

/// <param name="Tokens">The window size.</param>
/// <param name="SlidingLayers">How many of the layers use it.</param>
/// <param name="Layers">Total number of layers.</param>
public sealed record SlidingWindowInfo(int Tokens, int SlidingLayers, int Layers, string Source);

/// <summary>How the weights are stored.</summary>
/// <param name="IsQuantized">True for quantized weights; false when <see cref="Dtype"/> is the storage type.</param>
/// <param name="Bits">Bits per weight for quantized models.</param>
/// <param name="GroupSize">Quantization group size when known.</param>
/// <param name="Method">"affine" (MLX), "mxfp4", "awq", "gptq", "fp8", "bitsandbytes", … when quantized.</param>
/// <param name="Dtype">Storage dtype of unquantized weights: "bfloat16", "float16", "float32".</param>
/// <param name="MixedLayers">Number of layers with their own quantization settings (mixed-precision recipes).</param>
/// <param name="Label">Short badge text: "4-bit g64", "bf16", "MXFP4".</param>
public sealed record QuantizationInfo(
    bool IsQuantized,
    int? Bits,
    int? GroupSize,
    string? Method,
    string? Dtype,
    int MixedLayers,
    string Label,
    string Source);

/// <summary>
/// KV-cache size. Full-attention layers grow with every token; sliding-window layers stop growing at the window
/// (mlx-lm keeps them in a rotating buffer); linear-attention and KV-sharing layers hold no per-token cache.
/// </summary>
/// <param name="BytesPerToken">Growth per token while the context is shorter than any window: 2 × caching layers × KV heads × head dim × bytes.</param>
/// <param name="FullAttentionBytesPerToken">Part of <paramref name="BytesPerToken"/> from layers that never stop growing.</param>
/// <param name="SlidingBytesPerToken">Part of <paramref name="BytesPerToken"/> from sliding-window layers.</param>
/// <param name="SlidingWindow">Window of the sliding layers, when there are any.</param>
/// <param name="ContextTokens">The full context the model supports, when known.</param>
/// <param name="BytesAtFullContext">Cache size at <paramref name="ContextTokens"/>.</param>
public sealed record KvCacheEstimate(
    long BytesPerToken,
    long FullAttentionBytesPerToken,
    long SlidingBytesPerToken,
    int? SlidingWindow,
    int Layers,
    int CachedLayers,
    int KeyValueHeads,
    int HeadDim,
    int BytesPerElement,
    int? ContextTokens,
    long? BytesAtFullContext,
    string Source)
{
    /// <summary>Cache size at a given context length.</summary>
    public long BytesAt(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        var slidingTokens = SlidingWindow is { } window ? Math.Min(tokens, window) : tokens;
        return (FullAttentionBytesPerToken * tokens) + (SlidingBytesPerToken * slidingTokens);
    }
}

/// <summary>Where a capability verdict came from, strongest first.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CapabilityEvidence>))]
public enum CapabilityEvidence
{
    /// <summary>The chat template renders it (or, when false, a template was read and does not).</summary>
    ChatTemplate,

    /// <summary>tokenizer_config.json declares it (<c>tool_parser_type</c>).</summary>
    TokenizerConfig,

    /// <summary>The tokenizer defines the tokens and the repository name says so; the template does not show it.</summary>
    TokensAndName,

    /// <summary>Only a Hub tag says so: a labelled fallback.</summary>
    HubTagOnly,

    /// <summary>The repository has no chat template at all.</summary>
    NoChatTemplate,

    /// <summary>Nothing to go on.</summary>
    Unknown,
}

/// <summary>Tool use or thinking: supported (true), not supported (false) or unknown (null), with evidence.</summary>
public sealed record Capability(bool? Supported, CapabilityEvidence Evidence, string Source)
{
    public static Capability Unknown(string why) => new(null, CapabilityEvidence.Unknown, why);

    /// <summary>True when the evidence is weaker than the chat template or tokenizer config.</summary>
    public bool IsWeak => Evidence is CapabilityEvidence.TokensAndName or CapabilityEvidence.HubTagOnly;
}

[JsonConverter(typeof(JsonStringEnumConverter<BadgeKind>))]
public enum BadgeKind
{
    Architecture,
    Parameters,
    Quantization,
    Context,
    Vision,
    Audio,
    Tools,
    Thinking,
    Size,
}

/// <summary>A tile badge: short label and the provenance to show as its tooltip.</summary>
public sealed record Badge(BadgeKind Kind, string Label, string Source);
