namespace MlxManager.ModelFixtures;

/// <summary>The named fixtures the tests, emulators and demo use. Small by default (a few MB each) so a whole
/// catalogue writes in a second; <see cref="Large"/> and <see cref="Sized"/> give bigger ones on request.</summary>
public static class FixtureCatalog
{
    const long MB = 1024 * 1024;

    /// <summary>Llama 3.2 style, 4-bit, tool-capable template (renders <c>tools</c>), 128K context with llama3 rope scaling.</summary>
    public static FixtureSpec LlamaTools { get; } = new()
    {
        RepoId = "mlx-community/Llama-3.2-3B-Instruct-4bit",
        ModelType = "llama",
        Architecture = "LlamaForCausalLM",
        HiddenSize = 512, IntermediateSize = 1408, AttentionHeads = 8, KeyValueHeads = 2, HeadDim = 64,
        VocabSize = 4096, ContextLength = 131072, TieWordEmbeddings = true,
        RopeScaling = new() { ["factor"] = 32.0, ["high_freq_factor"] = 4.0, ["low_freq_factor"] = 1.0, ["original_max_position_embeddings"] = 8192, ["rope_type"] = "llama3" },
        Template = TemplateKind.LlamaTools,
        WeightBytes = 3 * MB,
        Hub = new HubFacts
        {
            Downloads = 254_000, Likes = 131, TrendingScore = 12,
            Tags = ["mlx", "safetensors", "llama", "text-generation", "conversational", "4-bit"],
            CreatedAt = new(2024, 9, 25, 0, 0, 0, TimeSpan.Zero), LastModified = new(2025, 3, 2, 0, 0, 0, TimeSpan.Zero),
        },
    };

    /// <summary>Qwen3 style, 4-bit: thinking (<c>enable_thinking</c>, <c>&lt;think&gt;</c>) and tools, 40K context.</summary>
    public static FixtureSpec QwenThinking { get; } = new()
    {
        RepoId = "mlx-community/Qwen3-4B-4bit",
        ModelType = "qwen3",
        Architecture = "Qwen3ForCausalLM",
        HiddenSize = 512, IntermediateSize = 1536, AttentionHeads = 8, KeyValueHeads = 4, HeadDim = 64,
        VocabSize = 4096, ContextLength = 40960, TieWordEmbeddings = true,
        Template = TemplateKind.QwenThinkingTools,
        WeightBytes = 4 * MB,
        Hub = new HubFacts
        {
            Downloads = 481_000, Likes = 310, TrendingScore = 40,
            Tags = ["mlx", "safetensors", "qwen3", "text-generation", "conversational", "4-bit"],
            CreatedAt = new(2025, 4, 29, 0, 0, 0, TimeSpan.Zero), LastModified = new(2025, 7, 14, 0, 0, 0, TimeSpan.Zero),
        },
    };

    /// <summary>Gemma 3 style vision model: nested <c>text_config</c> (sliding window) and <c>vision_config</c>,
    /// preprocessor config, template in <c>chat_template.json</c>.</summary>
    public static FixtureSpec GemmaVision { get; } = new()
    {
        RepoId = "mlx-community/gemma-3-4b-it-4bit",
        ModelType = "gemma3",
        Architecture = "Gemma3ForConditionalGeneration",
        HiddenSize = 512, IntermediateSize = 2048, AttentionHeads = 8, KeyValueHeads = 4, HeadDim = 64,
        VocabSize = 4096, ContextLength = 131072, SlidingWindow = 1024, TieWordEmbeddings = true,
        RopeScaling = new() { ["factor"] = 8.0, ["rope_type"] = "linear" },
        Vision = true,
        Template = TemplateKind.Gemma, TemplatePlacement = TemplatePlacement.JsonFile,
        WeightBytes = 4 * MB,
        Hub = new HubFacts
        {
            Downloads = 198_000, Likes = 95, TrendingScore = 8, PipelineTag = "image-text-to-text",
            Tags = ["mlx", "safetensors", "gemma3", "image-text-to-text", "conversational", "vision", "4-bit"],
            CreatedAt = new(2025, 3, 12, 0, 0, 0, TimeSpan.Zero), LastModified = new(2025, 5, 20, 0, 0, 0, TimeSpan.Zero),
        },
    };

    /// <summary>Qwen2.5-VL style vision model with tools; template in <c>chat_template.jinja</c>.</summary>
    public static FixtureSpec QwenVision { get; } = new()
    {
        RepoId = "mlx-community/Qwen2.5-VL-3B-Instruct-4bit",
        ModelType = "qwen2_5_vl",
        Architecture = "Qwen2_5_VLForConditionalGeneration",
        HiddenSize = 512, IntermediateSize = 1536, AttentionHeads = 8, KeyValueHeads = 2, HeadDim = 64,
        VocabSize = 4096, ContextLength = 128000, TieWordEmbeddings = true,
        Vision = true,
        Template = TemplateKind.QwenVision, TemplatePlacement = TemplatePlacement.JinjaFile,
        WeightBytes = 3 * MB,
        Hub = new HubFacts
        {
            Downloads = 120_500, Likes = 64, TrendingScore = 5, PipelineTag = "image-text-to-text",
            Tags = ["mlx", "safetensors", "qwen2_5_vl", "image-text-to-text", "conversational", "4-bit"],
            CreatedAt = new(2025, 2, 1, 0, 0, 0, TimeSpan.Zero), LastModified = new(2025, 4, 11, 0, 0, 0, TimeSpan.Zero),
        },
    };

    /// <summary>Phi-3.5 style, 8-bit, plain template: no tools, no thinking.</summary>
    public static FixtureSpec Phi8Bit { get; } = new()
    {
        RepoId = "mlx-community/Phi-3.5-mini-instruct-8bit",
        ModelType = "phi3",
        Architecture = "Phi3ForCausalLM",
        HiddenSize = 512, IntermediateSize = 1536, AttentionHeads = 8, KeyValueHeads = 8, HeadDim = null,
        VocabSize = 4096, ContextLength = 131072, Bits = 8,
        Template = TemplateKind.Plain,
        WeightBytes = 3 * MB,
        Hub = new HubFacts
        {
            Downloads = 61_200, Likes = 22, TrendingScore = 1,
            Tags = ["mlx", "safetensors", "phi3", "text-generation", "conversational", "8-bit"],
            CreatedAt = new(2024, 8, 21, 0, 0, 0, TimeSpan.Zero), LastModified = new(2024, 11, 2, 0, 0, 0, TimeSpan.Zero),
        },
    };

    /// <summary>DeepSeek-R1 distill style: the template opens <c>&lt;think&gt;</c> in the prompt, so the model's
    /// stream holds only the closing tag.</summary>
    public static FixtureSpec DeepSeekR1 { get; } = new()
    {
        RepoId = "mlx-community/DeepSeek-R1-Distill-Qwen-1.5B-4bit",
        ModelType = "qwen2",
        Architecture = "Qwen2ForCausalLM",
        HiddenSize = 512, IntermediateSize = 1408, AttentionHeads = 8, KeyValueHeads = 2, HeadDim = null,
        VocabSize = 4096, ContextLength = 131072,
        Template = TemplateKind.DeepSeekR1, Reasoning = ReasoningStyle.InlineClosingOnly,
        WeightBytes = 3 * MB,
        Hub = new HubFacts
        {
            Downloads = 90_300, Likes = 77, TrendingScore = 3,
            Tags = ["mlx", "safetensors", "qwen2", "text-generation", "conversational", "4-bit"],
            CreatedAt = new(2025, 1, 20, 0, 0, 0, TimeSpan.Zero), LastModified = new(2025, 2, 3, 0, 0, 0, TimeSpan.Zero),
        },
    };

    /// <summary>A thinking model whose engine leaves <c>&lt;think&gt;…&lt;/think&gt;</c> inline in the content.</summary>
    public static FixtureSpec InlineThinking { get; } = new()
    {
        RepoId = "mlx-community/GLM-Z1-9B-0414-4bit",
        ModelType = "glm4",
        Architecture = "Glm4ForCausalLM",
        HiddenSize = 512, IntermediateSize = 1408, AttentionHeads = 8, KeyValueHeads = 2, HeadDim = 64,
        VocabSize = 4096, ContextLength = 32768,
        Template = TemplateKind.QwenThinkingTools, TemplatePlacement = TemplatePlacement.JinjaFile,
        Reasoning = ReasoningStyle.InlineTags,
        WeightBytes = 3 * MB,
        Hub = new HubFacts
        {
            Downloads = 15_800, Likes = 18, TrendingScore = 2,
            Tags = ["mlx", "safetensors", "glm4", "text-generation", "conversational", "4-bit"],
            CreatedAt = new(2025, 4, 15, 0, 0, 0, TimeSpan.Zero), LastModified = new(2025, 4, 16, 0, 0, 0, TimeSpan.Zero),
        },
    };

    /// <summary>A well-formed repo whose <c>model_type</c> no engine supports: loading it fails.</summary>
    public static FixtureSpec Unsupported { get; } = new()
    {
        RepoId = "acme-research/Frobnicator-7B-4bit",
        ModelType = "frobnicator",
        Architecture = "FrobnicatorForCausalLM",
        Template = TemplateKind.Plain,
        WeightBytes = 2 * MB,
        Hub = new HubFacts
        {
            Downloads = 312, Likes = 2,
            Tags = ["mlx", "safetensors", "frobnicator", "text-generation", "4-bit"],
            CreatedAt = new(2025, 8, 1, 0, 0, 0, TimeSpan.Zero), LastModified = new(2025, 8, 2, 0, 0, 0, TimeSpan.Zero),
        },
    };

    /// <summary>A gated repo: the Hub answers 401/403 <c>GatedRepo</c> to file requests without the configured token.</summary>
    public static FixtureSpec Gated { get; } = new()
    {
        RepoId = "meta-llama/Llama-3.2-1B-Instruct-MLX",
        ModelType = "llama",
        Architecture = "LlamaForCausalLM",
        VocabSize = 4096, ContextLength = 131072, TieWordEmbeddings = true,
        Template = TemplateKind.LlamaTools,
        WeightBytes = 2 * MB,
        Hub = new HubFacts
        {
            Downloads = 40_100, Likes = 45, Gated = "manual", TrendingScore = 1,
            Tags = ["mlx", "safetensors", "llama", "text-generation", "conversational", "4-bit"],
            CreatedAt = new(2024, 9, 25, 0, 0, 0, TimeSpan.Zero), LastModified = new(2024, 10, 1, 0, 0, 0, TimeSpan.Zero),
        },
    };

    /// <summary>A bigger (~210 MB) 8-bit model in three shards, for download and memory tests.</summary>
    public static FixtureSpec Large { get; } = Sized(QwenThinking with { RepoId = "mlx-community/Qwen3-1.7B-8bit", Bits = 8, HiddenSize = 1024, IntermediateSize = 3072, AttentionHeads = 16, KeyValueHeads = 8, HeadDim = 64, VocabSize = 32768 }, 210 * MB, 3);

    /// <summary>The small fixtures, one of each shape.</summary>
    public static IReadOnlyList<FixtureSpec> Small { get; } =
        [LlamaTools, QwenThinking, GemmaVision, QwenVision, Phi8Bit, DeepSeekR1, InlineThinking, Unsupported, Gated];

    /// <summary>Every named fixture including the large one.</summary>
    public static IReadOnlyList<FixtureSpec> All { get; } = [.. Small, Large];

    /// <summary>A copy of <paramref name="spec"/> with the given weight size and shard count.</summary>
    public static FixtureSpec Sized(FixtureSpec spec, long weightBytes, int shards = 1) =>
        spec with { WeightBytes = weightBytes, Shards = shards };

    /// <summary>Finds a fixture by repo id or by a short key (<c>llama-tools</c>, <c>qwen-thinking</c>, <c>gemma-vision</c>,
    /// <c>qwen-vision</c>, <c>phi-8bit</c>, <c>deepseek-r1</c>, <c>inline-thinking</c>, <c>unsupported</c>, <c>gated</c>, <c>large</c>).</summary>
    public static FixtureSpec? Find(string keyOrRepoId) => keyOrRepoId switch
    {
        "llama-tools" => LlamaTools,
        "qwen-thinking" => QwenThinking,
        "gemma-vision" => GemmaVision,
        "qwen-vision" => QwenVision,
        "phi-8bit" => Phi8Bit,
        "deepseek-r1" => DeepSeekR1,
        "inline-thinking" => InlineThinking,
        "unsupported" => Unsupported,
        "gated" => Gated,
        "large" => Large,
        _ => All.FirstOrDefault(s => s.RepoId.Equals(keyOrRepoId, StringComparison.OrdinalIgnoreCase)),
    };

    public static IReadOnlyList<string> Keys { get; } =
        ["llama-tools", "qwen-thinking", "gemma-vision", "qwen-vision", "phi-8bit", "deepseek-r1", "inline-thinking", "unsupported", "gated", "large"];
}
