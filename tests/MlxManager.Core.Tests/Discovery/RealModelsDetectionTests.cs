using MlxManager.Core.Discovery;

namespace MlxManager.Core.Tests.Discovery;

/// <summary>
/// Detection on the files of real published models (RealModels/, see its README for where each came from).
/// Expected values were read from those files by hand.
/// </summary>
public sealed class RealModelsDetectionTests
{
    private static readonly ModelCharacteristicsDetector Detector = new();

    private static async Task<ModelCharacteristics> Detect(string folder)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "RealModels", folder);
        Directory.Exists(path).ShouldBeTrue($"{path} is copied to the test output");
        var separator = folder.IndexOf("--", StringComparison.Ordinal);
        var repoId = $"{folder[..separator]}/{folder[(separator + 2)..]}";
        var model = await Detector.DetectAsync(new FolderModelFileSource(path, repoId));
        model.Problems.ShouldBeEmpty();
        return model;
    }

    private static Badge BadgeOf(ModelCharacteristics model, BadgeKind kind) => model.Badges.Single(b => b.Kind == kind);

    [Fact]
    public async Task Qwen3_4B_HasThinkingToolsAnd40kContext()
    {
        var model = await Detect("Qwen--Qwen3-4B");

        model.Architecture!.Value.ShouldBe("Qwen3");
        model.ModelType.ShouldBe("qwen3");
        model.Architectures.ShouldBe(["Qwen3ForCausalLM"]);
        model.Context!.Tokens.ShouldBe(40960);
        model.Context.Source.ShouldBe("config.json: max_position_embeddings = 40960");
        model.Context.SlidingWindow.ShouldBeNull();
        model.Tools.Supported.ShouldBe(true);
        model.Tools.Evidence.ShouldBe(CapabilityEvidence.ChatTemplate);
        model.Tools.Source.ShouldContain("tokenizer_config.json: chat_template");
        model.Thinking.Supported.ShouldBe(true);
        model.Thinking.Source.ShouldContain("enable_thinking");
        model.Vision!.Value.ShouldBeFalse();
        model.Quantization!.Label.ShouldBe("bf16");
        model.Quantization.IsQuantized.ShouldBeFalse();
        model.KvCache!.BytesPerToken.ShouldBe(2L * 36 * 8 * 128 * 2);
        model.KvCache.BytesAtFullContext.ShouldBe(147_456L * 40960);
        model.Parameters!.Method.ShouldBe(ParameterCountMethod.ConfigEstimate);
        model.Parameters.Value.ShouldBeInRange(3_900_000_000, 4_100_000_000);
        BadgeOf(model, BadgeKind.Context).Label.ShouldBe("40K");
        BadgeOf(model, BadgeKind.Parameters).Label.ShouldBe("≈4B");
        model.WeightBytes.ShouldBeNull();
    }

    [Fact]
    public async Task Llama32_3B_ToolsFromTemplate_128kWithLlama3RopeScaling()
    {
        var model = await Detect("meta-llama--Llama-3.2-3B-Instruct");

        model.Architecture!.Value.ShouldBe("Llama");
        model.Context!.Tokens.ShouldBe(131072);
        model.Context.RopeScaling!.Value.ShouldBe("llama3 ×32 (original 8192)");
        model.Tools.Supported.ShouldBe(true);
        model.Tools.Evidence.ShouldBe(CapabilityEvidence.ChatTemplate);
        model.Thinking.Supported.ShouldBe(false);
        model.Thinking.Evidence.ShouldBe(CapabilityEvidence.ChatTemplate);
        model.KvCache!.BytesPerToken.ShouldBe(2L * 28 * 8 * 128 * 2);
        BadgeOf(model, BadgeKind.Context).Label.ShouldBe("128K");
        model.Badges.ShouldNotContain(b => b.Kind == BadgeKind.Thinking);
    }

    [Fact]
    public async Task Gemma3_4B_NestedTextConfig_VisionAndDefaultsLabelled()
    {
        var model = await Detect("google--gemma-3-4b-it");

        model.Architecture!.Value.ShouldBe("Gemma 3");
        model.Vision!.Value.ShouldBeTrue();
        model.Vision.Source.ShouldContain("vision_config");
        // text_config omits max_position_embeddings: the Gemma3TextConfig default applies, and says so.
        model.Context!.Tokens.ShouldBe(131072);
        model.Context.Source.ShouldContain("Gemma3TextConfig default");
        model.Context.SlidingWindow!.Tokens.ShouldBe(1024);
        model.Context.SlidingWindow.SlidingLayers.ShouldBe(29);
        model.Context.SlidingWindow.Layers.ShouldBe(34);
        model.Context.RopeScaling!.Value.ShouldBe("linear ×8");
        model.Tools.Supported.ShouldBe(false);
        model.Thinking.Supported.ShouldBe(false);
        model.Tools.Source.ShouldContain("chat_template.json");

        // 5 global layers grow with the context; 29 sliding layers stop at 1024 tokens (4 KV heads × 256 × 2 × 2 B each).
        var kv = model.KvCache!;
        kv.FullAttentionBytesPerToken.ShouldBe(5L * 4096);
        kv.SlidingBytesPerToken.ShouldBe(29L * 4096);
        kv.BytesAt(131072).ShouldBe((5L * 4096 * 131072) + (29L * 4096 * 1024));
        kv.BytesAt(512).ShouldBe(34L * 4096 * 512);
    }

    [Fact]
    public async Task GptOss20B_ReasoningChannel_Mxfp4_SlidingLayers()
    {
        var model = await Detect("openai--gpt-oss-20b");

        model.Architecture!.Value.ShouldBe("gpt-oss");
        model.Thinking.Supported.ShouldBe(true);
        model.Thinking.Source.ShouldContain("<|channel|>analysis");
        model.Tools.Supported.ShouldBe(true);
        model.Tools.Source.ShouldContain("chat_template.jinja");
        model.Quantization!.Label.ShouldBe("MXFP4");
        model.Quantization.Bits.ShouldBe(4);
        model.Context!.Tokens.ShouldBe(131072);
        model.Context.RopeScaling!.Value.ShouldBe("yarn ×32 (original 4096)");
        model.Context.SlidingWindow!.Tokens.ShouldBe(128);
        model.Context.SlidingWindow.SlidingLayers.ShouldBe(12);
        model.KvCache!.FullAttentionBytesPerToken.ShouldBe(12L * 2 * 8 * 64 * 2);
        model.KvCache.SlidingBytesPerToken.ShouldBe(12L * 2 * 8 * 64 * 2);
        model.Parameters!.Value.ShouldBeInRange(20_000_000_000, 22_000_000_000);
    }

    [Fact]
    public async Task Glm41V_Thinking_VisionFromVisionConfig_ThinkingLabelledAsLikely()
    {
        var model = await Detect("zai-org--GLM-4.1V-9B-Thinking");

        model.Architecture!.Value.ShouldBe("GLM-4.1V");
        model.Vision!.Value.ShouldBeTrue();
        model.Context!.Tokens.ShouldBe(65536);
        model.Thinking.Supported.ShouldBe(true);
        model.Thinking.Evidence.ShouldBe(CapabilityEvidence.TokensAndName);
        BadgeOf(model, BadgeKind.Thinking).Label.ShouldBe("thinking (likely)");
        model.Tools.Supported.ShouldBe(false);
        model.KvCache!.BytesPerToken.ShouldBe(2L * 40 * 2 * 128 * 2);
    }

    [Fact]
    public async Task Phi3Mini128k_LongropeScaling_SlidingWindowLongerThanContextIgnored()
    {
        var model = await Detect("microsoft--Phi-3-mini-128k-instruct");

        model.Architecture!.Value.ShouldBe("Phi-3");
        model.Context!.Tokens.ShouldBe(131072);
        model.Context.RopeScaling!.Value.ShouldBe("longrope (original 4096)");
        model.Context.RopeScaling.Source.ShouldContain("original_max_position_embeddings = 4096");
        model.Context.SlidingWindow.ShouldBeNull();
        model.KvCache!.BytesPerToken.ShouldBe(2L * 32 * 32 * 96 * 2);
        model.Tools.Supported.ShouldBe(false);
        model.Thinking.Supported.ShouldBe(false);
    }

    [Fact]
    public async Task AllMiniLM_NoChatTemplate_NoToolsNoThinking_NoKvCache()
    {
        var model = await Detect("sentence-transformers--all-MiniLM-L6-v2");

        model.Architecture!.Value.ShouldBe("BERT");
        model.Context!.Tokens.ShouldBe(512);
        model.Tools.Supported.ShouldBe(false);
        model.Tools.Evidence.ShouldBe(CapabilityEvidence.NoChatTemplate);
        model.Thinking.Supported.ShouldBe(false);
        model.Thinking.Evidence.ShouldBe(CapabilityEvidence.NoChatTemplate);
        model.KvCache.ShouldBeNull();
        model.Quantization.ShouldBeNull();
        model.Parameters!.Value.ShouldBeInRange(20_000_000, 25_000_000);
    }

    [Fact]
    public async Task Qwen25_7B_ToolsNoThinking_32k()
    {
        var model = await Detect("Qwen--Qwen2.5-7B-Instruct");

        model.Architecture!.Value.ShouldBe("Qwen2");
        model.Context!.Tokens.ShouldBe(32768);
        model.Context.SlidingWindow.ShouldBeNull(); // use_sliding_window is false
        model.Tools.Supported.ShouldBe(true);
        model.Thinking.Supported.ShouldBe(false);
        model.KvCache!.BytesPerToken.ShouldBe(2L * 28 * 4 * 128 * 2);
        model.Parameters!.Value.ShouldBeInRange(7_400_000_000, 7_800_000_000);
        BadgeOf(model, BadgeKind.Parameters).Label.ShouldBe("≈7.6B");
    }

    [Fact]
    public async Task Qwen2VL_Awq_VisionAnd4BitAwq()
    {
        var model = await Detect("Qwen--Qwen2-VL-2B-Instruct-AWQ");

        model.Architecture!.Value.ShouldBe("Qwen2-VL");
        model.Vision!.Value.ShouldBeTrue();
        model.Quantization!.Label.ShouldBe("4-bit AWQ g128");
        model.Quantization.Method.ShouldBe("awq");
        model.Context!.Tokens.ShouldBe(32768);
        model.Tools.Supported.ShouldBe(false);
        model.KvCache!.BytesPerToken.ShouldBe(2L * 28 * 2 * 128 * 2);
    }

    [Fact]
    public async Task Qwen25VL_3B_ChatTemplateJson_128000Context()
    {
        var model = await Detect("Qwen--Qwen2.5-VL-3B-Instruct");

        model.Architecture!.Value.ShouldBe("Qwen2.5-VL");
        model.Vision!.Value.ShouldBeTrue();
        model.Context!.Tokens.ShouldBe(128000);
        BadgeOf(model, BadgeKind.Context).Label.ShouldBe("128K");
        model.Tools.Supported.ShouldBe(false);
        model.Tools.Source.ShouldStartWith("chat_template.json");
        model.KvCache!.BytesPerToken.ShouldBe(2L * 36 * 2 * 128 * 2);
    }

    [Fact]
    public async Task Qwen3VL_4B_Instruct_NestedContext_ToolsButNoThinkingDespiteThinkTokens()
    {
        var model = await Detect("Qwen--Qwen3-VL-4B-Instruct");

        model.Architecture!.Value.ShouldBe("Qwen3-VL");
        model.Context!.Tokens.ShouldBe(262144);
        model.Context.Source.ShouldBe("config.json: text_config.max_position_embeddings = 262144");
        model.Vision!.Value.ShouldBeTrue();
        model.Tools.Supported.ShouldBe(true);
        // The vocabulary has <think> tokens, but this Instruct model's template never uses them.
        model.Thinking.Supported.ShouldBe(false);
        model.Quantization!.Source.ShouldBe("config.json: text_config.dtype = \"bfloat16\"");
        model.KvCache!.BytesPerToken.ShouldBe(2L * 36 * 8 * 128 * 2);
    }

    [Fact]
    public async Task Qwen35_08B_HybridAttention_OnlyFullLayersCache()
    {
        var model = await Detect("Qwen--Qwen3.5-0.8B");

        model.Architecture!.Value.ShouldBe("Qwen3.5");
        model.Context!.Tokens.ShouldBe(262144);
        model.Vision!.Value.ShouldBeTrue();
        model.Tools.Supported.ShouldBe(true);
        model.Thinking.Supported.ShouldBe(true);
        model.Tools.Source.ShouldStartWith("chat_template.jinja");
        model.KvCache!.CachedLayers.ShouldBe(6);
        model.KvCache.BytesPerToken.ShouldBe(2L * 6 * 2 * 256 * 2);
    }

    [Fact]
    public async Task DeepSeekR1DistillQwen32B_ThinkingFromThinkTagHandling_NoTools()
    {
        var model = await Detect("deepseek-ai--DeepSeek-R1-Distill-Qwen-32B");

        model.Architecture!.Value.ShouldBe("Qwen2");
        model.Context!.Tokens.ShouldBe(131072);
        model.Thinking.Supported.ShouldBe(true);
        model.Thinking.Source.ShouldContain("</think>");
        // It renders past tool calls but never the tool definitions.
        model.Tools.Supported.ShouldBe(false);
        model.KvCache!.BytesAtFullContext.ShouldBe(2L * 64 * 8 * 128 * 2 * 131072);
    }

    [Fact]
    public async Task Gemma4_E2B_VisionAudioToolsThinking_SharedKvLayers()
    {
        var model = await Detect("google--gemma-4-E2B-it");

        model.Architecture!.Value.ShouldBe("Gemma 4");
        model.Vision!.Value.ShouldBeTrue();
        model.Audio!.Value.ShouldBeTrue();
        model.Tools.Supported.ShouldBe(true);
        model.Thinking.Supported.ShouldBe(true);
        model.Context!.Tokens.ShouldBe(131072);
        model.Context.SlidingWindow!.Tokens.ShouldBe(512);
        // The last 20 of 35 layers reuse earlier caches: 15 layers cache, 3 of them global (head dim 512).
        model.KvCache!.CachedLayers.ShouldBe(15);
        model.KvCache.FullAttentionBytesPerToken.ShouldBe(3L * 2 * 1 * 512 * 2);
        model.KvCache.SlidingBytesPerToken.ShouldBe(12L * 2 * 1 * 256 * 2);
        model.Badges.Select(b => b.Kind).ShouldBe(
            [BadgeKind.Architecture, BadgeKind.Parameters, BadgeKind.Quantization, BadgeKind.Context, BadgeKind.Vision, BadgeKind.Audio, BadgeKind.Tools, BadgeKind.Thinking]);
    }

    [Fact]
    public async Task Llava15_7B_TextConfigFromLlamaDefaults_FourKContext()
    {
        var model = await Detect("llava-hf--llava-1.5-7b-hf");

        model.Architecture!.Value.ShouldBe("LLaVA");
        model.Context!.Tokens.ShouldBe(4096);
        model.Context.Source.ShouldBe("config.json: text_config.max_position_embeddings = 4096");
        model.Vision!.Value.ShouldBeTrue();
        model.Quantization!.Label.ShouldBe("fp16");
        model.Tools.Supported.ShouldBe(false);
        model.Tools.Source.ShouldContain("chat_template.jinja");
        model.KvCache!.BytesPerToken.ShouldBe(2L * 32 * 32 * 128 * 2);
        model.KvCache.Source.ShouldContain("LlamaConfig default");
    }

    [Fact]
    public async Task LmStudioQwen3_17B_Bf16_ThinkingAndTools()
    {
        var model = await Detect("lmstudio-community--Qwen3-1.7B-MLX-bf16");

        model.Quantization!.Label.ShouldBe("bf16");
        model.Context!.Tokens.ShouldBe(40960);
        model.Tools.Supported.ShouldBe(true);
        model.Thinking.Supported.ShouldBe(true);
        model.KvCache!.BytesPerToken.ShouldBe(2L * 28 * 8 * 128 * 2);
    }

    [Fact]
    public async Task LmStudioQwen3_14B_4Bit_QuantizationFromMlxKey()
    {
        var model = await Detect("lmstudio-community--Qwen3-14B-MLX-4bit");

        model.Quantization!.Label.ShouldBe("4-bit g64");
        model.Quantization.Bits.ShouldBe(4);
        model.Quantization.GroupSize.ShouldBe(64);
        model.Quantization.Source.ShouldStartWith("config.json: quantization = ");
        model.Tools.Supported.ShouldBe(true);
        model.Thinking.Supported.ShouldBe(true);
        model.Parameters!.Value.ShouldBeInRange(14_000_000_000, 15_500_000_000);
    }

    [Fact]
    public async Task MlxCommunityQwen35_9B_8Bit_ConfigOnly_CapabilitiesUnknown()
    {
        var model = await Detect("mlx-community--Qwen3.5-9B-MLX-8bit");

        model.Quantization!.Label.ShouldBe("8-bit g64");
        model.Context!.Tokens.ShouldBe(262144);
        model.Vision!.Value.ShouldBeTrue();
        model.Tools.Supported.ShouldBeNull();
        model.Tools.Evidence.ShouldBe(CapabilityEvidence.Unknown);
        model.Thinking.Supported.ShouldBeNull();
        model.KvCache!.CachedLayers.ShouldBe(8);
        model.KvCache.BytesPerToken.ShouldBe(2L * 8 * 4 * 256 * 2);
    }

    [Fact]
    public async Task Gemma2_2B_TemplateOnly_NoToolsNoThinking_RestUnknown()
    {
        var model = await Detect("google--gemma-2-2b-it");

        model.Tools.Supported.ShouldBe(false);
        model.Thinking.Supported.ShouldBe(false);
        model.Architecture.ShouldBeNull();
        model.Context.ShouldBeNull();
        model.Vision.ShouldBeNull();
        model.KvCache.ShouldBeNull();
        model.Badges.ShouldBeEmpty();
    }

    [Fact]
    public async Task Phi35Mini_TemplateOnly_NoTools()
    {
        var model = await Detect("microsoft--Phi-3.5-mini-instruct");

        model.Tools.Supported.ShouldBe(false);
        model.Thinking.Supported.ShouldBe(false);
        model.Architecture.ShouldBeNull();
    }

    [Fact]
    public async Task MistralNemo_TemplateOnly_Tools()
    {
        var model = await Detect("mistralai--Mistral-Nemo-Instruct-2407");

        model.Tools.Supported.ShouldBe(true);
        model.Tools.Source.ShouldContain("chat_template.jinja");
        model.Thinking.Supported.ShouldBe(false);
        model.Badges.Single().Kind.ShouldBe(BadgeKind.Tools);
    }

    [Fact]
    public void EveryRealModelFolder_IsAttributedInTheReadme()
    {
        var folders = Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "RealModels")).Select(Path.GetFileName).Order().ToList();
        var source = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "RealModels", "README.md"));

        folders.Count.ShouldBe(21);
        folders.ShouldAllBe(folder => source.Contains(folder!));
    }
}
