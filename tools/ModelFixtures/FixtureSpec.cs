namespace MlxManager.ModelFixtures;

/// <summary>Which chat template a fixture carries; each is written in the style of a real model family.</summary>
public enum TemplateKind
{
    /// <summary>No chat template at all (an embedding model, say).</summary>
    None,
    /// <summary>ChatML without tools or thinking.</summary>
    Plain,
    /// <summary>Llama 3.x style: renders the <c>tools</c> variable as JSON in the prompt.</summary>
    LlamaTools,
    /// <summary>Qwen3 style: ChatML, renders <c>tools</c>, supports <c>enable_thinking</c> and <c>&lt;think&gt;</c>.</summary>
    QwenThinkingTools,
    /// <summary>DeepSeek-R1 distill style: the generation prompt opens <c>&lt;think&gt;</c>, so the model emits only the closing tag.</summary>
    DeepSeekR1,
    /// <summary>Gemma 3 style: turns, images as <c>&lt;start_of_image&gt;</c>, no tools.</summary>
    Gemma,
    /// <summary>Qwen2.5-VL style: ChatML with vision placeholders and tools.</summary>
    QwenVision,
}

/// <summary>Where the chat template lives in the repo.</summary>
public enum TemplatePlacement
{
    /// <summary><c>tokenizer_config.json</c> → <c>chat_template</c> as a string.</summary>
    TokenizerConfig,
    /// <summary><c>tokenizer_config.json</c> → <c>chat_template</c> as a list of named templates.</summary>
    TokenizerConfigList,
    /// <summary>A separate <c>chat_template.jinja</c> file (newer repos).</summary>
    JinjaFile,
    /// <summary>A separate <c>chat_template.json</c> file (processors of vision models).</summary>
    JsonFile,
}

/// <summary>How an emulated engine emits this model's thinking. Written into config.json under <c>_emulator</c>,
/// a key real loaders ignore; only tools/EngineEmulator reads it.</summary>
public enum ReasoningStyle
{
    /// <summary>The engine's parser separates thinking (delta.reasoning / reasoning_content).</summary>
    Parsed,
    /// <summary>Inline <c>&lt;think&gt;…&lt;/think&gt;</c> in content.</summary>
    InlineTags,
    /// <summary>Only the closing tag appears in content: the template opened the block in the prompt.</summary>
    InlineClosingOnly,
}

/// <summary>Hub-side facts of a repo that are not files: served by tools/HubEmulator from a sidecar file.</summary>
public sealed record HubFacts
{
    public long Downloads { get; init; }
    public long Likes { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string? PipelineTag { get; init; } = "text-generation";
    public string? LibraryName { get; init; } = "mlx";
    /// <summary><c>false</c>, <c>"auto"</c> or <c>"manual"</c> as the Hub reports it.</summary>
    public string Gated { get; init; } = "false";
    public DateTimeOffset CreatedAt { get; init; } = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public DateTimeOffset LastModified { get; init; } = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
    public double TrendingScore { get; init; }
}

/// <summary>Everything needed to write one model repo.</summary>
public sealed record FixtureSpec
{
    /// <summary>Hub id, <c>org/name</c>.</summary>
    public required string RepoId { get; init; }
    public required string ModelType { get; init; }
    public required string Architecture { get; init; }
    public int HiddenSize { get; init; } = 512;
    public int IntermediateSize { get; init; } = 1408;
    public int Layers { get; init; } = 4;
    public int AttentionHeads { get; init; } = 8;
    public int KeyValueHeads { get; init; } = 2;
    public int? HeadDim { get; init; } = 64;
    public int VocabSize { get; init; } = 32000;
    public int ContextLength { get; init; } = 32768;
    public int? SlidingWindow { get; init; }
    /// <summary>Extra top-level keys for rope scaling and similar family-specific settings.</summary>
    public Dictionary<string, object?>? RopeScaling { get; init; }
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Quantization bits (4, 8, …), or null for an unquantized model stored in <see cref="Dtype"/>.</summary>
    public int? Bits { get; init; } = 4;
    public int GroupSize { get; init; } = 64;
    /// <summary>Storage dtype of unquantized tensors and of scales/biases: <c>bfloat16</c> or <c>float16</c>.</summary>
    public string Dtype { get; init; } = "bfloat16";
    /// <summary>Vision models nest the language settings in <c>text_config</c> and add <c>vision_config</c>.</summary>
    public bool Vision { get; init; }
    public TemplateKind Template { get; init; } = TemplateKind.Plain;
    public TemplatePlacement TemplatePlacement { get; init; } = TemplatePlacement.TokenizerConfig;
    /// <summary>mlx-lm's explicit tool parser hint in tokenizer_config.json.</summary>
    public string? ToolParserType { get; init; }
    public ReasoningStyle Reasoning { get; init; } = ReasoningStyle.Parsed;
    /// <summary>Bytes of tensor data to write across all shards (approximate to one embedding row).</summary>
    public long WeightBytes { get; init; } = 2 * 1024 * 1024;
    public int Shards { get; init; } = 1;
    public HubFacts Hub { get; init; } = new();

    public string Org => RepoId.Split('/')[0];
    public string Name => RepoId.Split('/')[1];
}
