namespace MlxManager.Core.Discovery;

/// <summary>Readable family names for config.json <c>model_type</c> values.</summary>
public static class ArchitectureNames
{
    private static readonly Dictionary<string, string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["llama"] = "Llama",
        ["llama4"] = "Llama 4",
        ["mllama"] = "Llama 3.2 Vision",
        ["mistral"] = "Mistral",
        ["mistral3"] = "Mistral 3",
        ["mixtral"] = "Mixtral",
        ["pixtral"] = "Pixtral",
        ["ministral"] = "Ministral",
        ["qwen"] = "Qwen",
        ["qwen2"] = "Qwen2",
        ["qwen2_moe"] = "Qwen2 MoE",
        ["qwen2_vl"] = "Qwen2-VL",
        ["qwen2_5_vl"] = "Qwen2.5-VL",
        ["qwen2_5_omni"] = "Qwen2.5-Omni",
        ["qwen2_audio"] = "Qwen2-Audio",
        ["qwen3"] = "Qwen3",
        ["qwen3_moe"] = "Qwen3 MoE",
        ["qwen3_next"] = "Qwen3-Next",
        ["qwen3_vl"] = "Qwen3-VL",
        ["qwen3_vl_moe"] = "Qwen3-VL MoE",
        ["qwen3_omni_moe"] = "Qwen3-Omni",
        ["qwen3_5"] = "Qwen3.5",
        ["qwen3_5_moe"] = "Qwen3.5 MoE",
        ["gemma"] = "Gemma",
        ["gemma2"] = "Gemma 2",
        ["gemma3"] = "Gemma 3",
        ["gemma3_text"] = "Gemma 3",
        ["gemma3n"] = "Gemma 3n",
        ["gemma4"] = "Gemma 4",
        ["gemma4_text"] = "Gemma 4",
        ["paligemma"] = "PaliGemma",
        ["phi"] = "Phi",
        ["phi3"] = "Phi-3",
        ["phi3small"] = "Phi-3 Small",
        ["phi3v"] = "Phi-3 Vision",
        ["phi4mm"] = "Phi-4 Multimodal",
        ["phimoe"] = "Phi MoE",
        ["gpt_oss"] = "gpt-oss",
        ["gpt2"] = "GPT-2",
        ["gpt_neox"] = "GPT-NeoX",
        ["glm"] = "GLM",
        ["glm4"] = "GLM-4",
        ["glm4_moe"] = "GLM-4.5",
        ["glm4v"] = "GLM-4.1V",
        ["glm4v_moe"] = "GLM-4.5V",
        ["chatglm"] = "ChatGLM",
        ["deepseek"] = "DeepSeek",
        ["deepseek_v2"] = "DeepSeek-V2",
        ["deepseek_v3"] = "DeepSeek-V3",
        ["deepseek_vl_v2"] = "DeepSeek-VL2",
        ["kimi_k2"] = "Kimi K2",
        ["kimi_vl"] = "Kimi-VL",
        ["llava"] = "LLaVA",
        ["llava_next"] = "LLaVA-NeXT",
        ["llava_qwen2"] = "LLaVA-Qwen2",
        ["idefics3"] = "Idefics3",
        ["smolvlm"] = "SmolVLM",
        ["smollm3"] = "SmolLM3",
        ["internlm2"] = "InternLM2",
        ["internlm3"] = "InternLM3",
        ["internvl_chat"] = "InternVL",
        ["minicpm"] = "MiniCPM",
        ["minicpm3"] = "MiniCPM3",
        ["cohere"] = "Command R",
        ["cohere2"] = "Command R7B",
        ["olmo"] = "OLMo",
        ["olmo2"] = "OLMo 2",
        ["olmo3"] = "OLMo 3",
        ["olmoe"] = "OLMoE",
        ["granite"] = "Granite",
        ["granitemoe"] = "Granite MoE",
        ["granitemoehybrid"] = "Granite 4",
        ["exaone"] = "EXAONE",
        ["exaone4"] = "EXAONE 4",
        ["ernie4_5"] = "ERNIE 4.5",
        ["ernie4_5_moe"] = "ERNIE 4.5 MoE",
        ["hunyuan"] = "Hunyuan",
        ["hunyuan_v1_dense"] = "Hunyuan",
        ["starcoder2"] = "StarCoder2",
        ["stablelm"] = "StableLM",
        ["falcon"] = "Falcon",
        ["falcon_h1"] = "Falcon-H1",
        ["falcon_mamba"] = "Falcon Mamba",
        ["mamba"] = "Mamba",
        ["mamba2"] = "Mamba 2",
        ["nemotron"] = "Nemotron",
        ["nemotron_h"] = "Nemotron-H",
        ["lfm2"] = "LFM2",
        ["lfm2_vl"] = "LFM2-VL",
        ["baichuan"] = "Baichuan",
        ["openelm"] = "OpenELM",
        ["dbrx"] = "DBRX",
        ["minimax"] = "MiniMax",
        ["bitnet"] = "BitNet",
        ["seed_oss"] = "Seed-OSS",
        ["apertus"] = "Apertus",
        ["bert"] = "BERT",
        ["roberta"] = "RoBERTa",
        ["xlm-roberta"] = "XLM-RoBERTa",
        ["distilbert"] = "DistilBERT",
        ["modernbert"] = "ModernBERT",
        ["t5"] = "T5",
        ["whisper"] = "Whisper",
    };

    // Encoder-only families: no causal generation, so no KV cache and no chat.
    private static readonly HashSet<string> EncoderOnly = new(StringComparer.OrdinalIgnoreCase)
    {
        "bert", "roberta", "xlm-roberta", "distilbert", "modernbert", "electra", "mpnet", "deberta", "deberta-v2",
        "albert", "camembert", "nomic_bert", "new",
    };

    /// <summary>The readable name for a model_type, or null when it is not in the table.</summary>
    public static string? ForModelType(string? modelType) =>
        modelType is not null && Names.TryGetValue(modelType, out var name) ? name : null;

    /// <summary>A family name derived from an architecture class name, e.g. "FooBarForCausalLM" → "FooBar".</summary>
    public static string? FromArchitectureClass(string? architecture)
    {
        if (string.IsNullOrWhiteSpace(architecture))
        {
            return null;
        }

        foreach (var suffix in new[] { "ForConditionalGeneration", "ForCausalLM", "LMHeadModel", "ForMaskedLM", "Model" })
        {
            if (architecture.EndsWith(suffix, StringComparison.Ordinal) && architecture.Length > suffix.Length)
            {
                return architecture[..^suffix.Length];
            }
        }

        return architecture;
    }

    public static bool IsEncoderOnly(string? modelType) => modelType is not null && EncoderOnly.Contains(modelType);
}
