namespace MlxManager.EngineEmulator.Models;

/// <summary>Which <c>model_type</c>s each engine has an implementation for (the module names under
/// mlx_lm/models and mlx_vlm/models, 2026) and the renames they apply first.</summary>
public static class ModelSupport
{
    static readonly Dictionary<string, string> MlxLmRemapping = new()
    {
        ["mistral"] = "llama",
        ["llava"] = "mistral3",
        ["phi-msft"] = "phixtral",
        ["falcon_mamba"] = "mamba",
        ["kimi_k2"] = "deepseek_v3",
        ["qwen2_5_vl"] = "qwen2_vl",
        ["minimax_m2"] = "minimax",
        ["iquestcoder"] = "llama",
        ["gemma4_unified"] = "gemma4",
    };

    static readonly HashSet<string> MlxLmTypes =
    [
        "afm7", "afmoe", "apertus", "baichuan_m1", "bailing_moe", "bailing_moe_linear", "bitnet", "cohere", "cohere2", "dbrx",
        "deepseek", "deepseek_v2", "deepseek_v3", "deepseek_v32", "dots1", "ernie4_5", "ernie4_5_moe", "exaone", "exaone4",
        "exaone_moe", "falcon_h1", "gemma", "gemma2", "gemma3", "gemma3_text", "gemma3n", "gemma4", "gemma4_text", "glm", "glm4",
        "glm4_moe", "glm4_moe_lite", "glm_moe_dsa", "gpt2", "gpt_bigcode", "gpt_neox", "gpt_oss", "granite", "granitemoe",
        "granitemoehybrid", "helium", "hunyuan", "hunyuan_v1_dense", "internlm2", "internlm3", "jamba", "kimi_k25", "kimi_linear",
        "kimi_vl", "lfm2", "lfm2_moe", "llama", "llama4", "llama4_text", "longcat_flash", "mamba", "mamba2", "mimo", "mimo_v2_flash",
        "minicpm", "minicpm3", "minimax", "ministral3", "mistral3", "mixtral", "nanochat", "nemotron", "nemotron_h", "olmo", "olmo2",
        "olmo3", "olmoe", "openelm", "phi", "phi3", "phi3small", "phimoe", "phixtral", "pixtral", "plamo", "plamo2", "qwen", "qwen2",
        "qwen2_moe", "qwen2_vl", "qwen3", "qwen3_5", "qwen3_5_moe", "qwen3_moe", "qwen3_next", "qwen3_vl", "qwen3_vl_moe",
        "recurrent_gemma", "rwkv7", "seed_oss", "smollm3", "solar_open", "stablelm", "starcoder2", "step3p5", "telechat3",
    ];

    static readonly HashSet<string> MlxVlmTypes =
    [
        "aya_vision", "deepseek_vl_v2", "florence2", "gemma3", "gemma3n", "gemma4", "glm4v", "glm4v_moe", "idefics2", "idefics3",
        "internvl_chat", "kimi_vl", "lfm2_vl", "llama4", "llava", "llava_next", "mistral3", "mllama", "molmo", "multi_modality",
        "paligemma", "phi3_v", "pixtral", "qwen2_5_vl", "qwen2_vl", "qwen3_5", "qwen3_5_moe", "qwen3_vl", "qwen3_vl_moe", "smolvlm",
        // mlx-vlm also serves plain language models through the same loader.
        "gemma3_text", "glm4", "gpt_oss", "llama", "mistral", "phi3", "qwen2", "qwen3", "qwen3_moe",
    ];

    /// <summary>The module name mlx_lm would import for this <c>model_type</c>, or null if it has none.</summary>
    public static string? MlxLmModule(string modelType)
    {
        var mapped = MlxLmRemapping.GetValueOrDefault(modelType, modelType);
        return MlxLmTypes.Contains(mapped) ? mapped : null;
    }

    public static bool MlxVlmSupports(string modelType) => MlxVlmTypes.Contains(modelType.ToLowerInvariant());

    /// <summary>The name mlx_lm reports in its error (after remapping).</summary>
    public static string MlxLmName(string modelType) => MlxLmRemapping.GetValueOrDefault(modelType, modelType);
}
