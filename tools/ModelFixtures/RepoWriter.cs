using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlxManager.ModelFixtures;

/// <summary>A file of a written repo, with the identifiers the Hub would give it.</summary>
public sealed record RepoFile(string Path, long Size, string Etag, bool IsLfs);

/// <summary>A repo written to disk: its folder, files and the commit id derived from them.</summary>
public sealed record WrittenRepo(FixtureSpec Spec, string Folder, string Commit, IReadOnlyList<RepoFile> Files)
{
    public long WeightBytes => Files.Where(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal)).Sum(f => f.Size);
}

/// <summary>Writes a model repo as an MLX conversion publishes it: config.json, tokenizer files with the
/// chat template, preprocessor config for vision models, safetensors weights with an index, a model card.</summary>
public static class RepoWriter
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static WrittenRepo Write(string folder, FixtureSpec spec)
    {
        Directory.CreateDirectory(folder);
        var plan = TensorPlan.For(spec);

        WriteJson(folder, "config.json", Config(spec, plan));
        WriteJson(folder, "generation_config.json", new JsonObject { ["do_sample"] = true, ["temperature"] = 0.7, ["top_p"] = 0.8 });
        WriteJson(folder, "tokenizer_config.json", TokenizerConfig(spec));
        WriteJson(folder, "special_tokens_map.json", new JsonObject { ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>" });
        WriteJson(folder, "tokenizer.json", Tokenizer());
        var template = ChatTemplates.For(spec.Template);
        if (template is not null && spec.TemplatePlacement == TemplatePlacement.JinjaFile)
            File.WriteAllText(Path.Combine(folder, "chat_template.jinja"), template);
        if (template is not null && spec.TemplatePlacement == TemplatePlacement.JsonFile)
            WriteJson(folder, "chat_template.json", new JsonObject { ["chat_template"] = template });
        if (spec.Vision)
            WriteJson(folder, "preprocessor_config.json", Preprocessor(spec));
        WriteWeights(folder, spec, plan);
        File.WriteAllText(Path.Combine(folder, "README.md"), ModelCard(spec));

        return Describe(folder, spec);
    }

    /// <summary>Lists the files of a repo folder (without the Hub sidecar) with etags and the commit id.</summary>
    public static WrittenRepo Describe(string folder, FixtureSpec spec)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => (Full: f, Rel: Path.GetRelativePath(folder, f).Replace('\\', '/')))
            .Where(f => f.Rel != HubFactsFile.Name)
            .OrderBy(f => f.Rel, StringComparer.Ordinal)
            .Select(f =>
            {
                long size = new FileInfo(f.Full).Length;
                return new RepoFile(f.Rel, size, GitObjects.Etag(f.Full, f.Rel), GitObjects.IsLfs(f.Rel, size));
            })
            .ToList();
        return new WrittenRepo(spec, folder, GitObjects.CommitId(files.Select(f => (f.Path, f.Etag))), files);
    }

    static void WriteWeights(string folder, FixtureSpec spec, TensorPlan plan)
    {
        var shards = plan.Shard(spec.Shards);
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            string name = shards.Count == 1 ? "model.safetensors" : $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsWriter.Write(Path.Combine(folder, name), shards[i], $"{spec.RepoId}/{name}");
            foreach (var t in shards[i]) weightMap[t.Name] = name;
        }
        // mlx_lm.convert writes the index even for a single shard.
        WriteJson(folder, "model.safetensors.index.json", new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = plan.TotalBytes },
            ["weight_map"] = weightMap,
        });
    }

    static JsonObject Config(FixtureSpec spec, TensorPlan plan)
    {
        var text = new JsonObject
        {
            ["model_type"] = spec.Vision ? spec.ModelType + "_text" : spec.ModelType,
            ["hidden_size"] = spec.HiddenSize,
            ["intermediate_size"] = spec.IntermediateSize,
            ["num_hidden_layers"] = plan.Layers,
            ["num_attention_heads"] = spec.AttentionHeads,
            ["num_key_value_heads"] = spec.KeyValueHeads,
            ["max_position_embeddings"] = spec.ContextLength,
            ["vocab_size"] = plan.VocabSize,
            ["rms_norm_eps"] = 1e-06,
            ["rope_theta"] = 1000000.0,
        };
        if (spec.HeadDim is int headDim) text["head_dim"] = headDim;
        if (spec.SlidingWindow is int window) text["sliding_window"] = window;
        if (spec.RopeScaling is not null) text["rope_scaling"] = JsonSerializer.SerializeToNode(spec.RopeScaling);

        JsonObject config;
        if (spec.Vision)
        {
            config = new JsonObject
            {
                ["architectures"] = new JsonArray(spec.Architecture),
                ["model_type"] = spec.ModelType,
                ["image_token_id"] = 262144,
                ["text_config"] = text,
                ["vision_config"] = new JsonObject
                {
                    ["model_type"] = "siglip_vision_model",
                    ["hidden_size"] = 128,
                    ["image_size"] = 896,
                    ["patch_size"] = 14,
                    ["num_hidden_layers"] = 2,
                    ["num_attention_heads"] = 4,
                },
            };
        }
        else
        {
            config = new JsonObject { ["architectures"] = new JsonArray(spec.Architecture) };
            foreach (var (key, value) in text) config[key] = value?.DeepClone();
        }
        config["tie_word_embeddings"] = spec.TieWordEmbeddings;
        config["torch_dtype"] = spec.Dtype;
        if (spec.Bits is int bits)
        {
            config["quantization"] = new JsonObject { ["group_size"] = spec.GroupSize, ["bits"] = bits };
            config["quantization_config"] = new JsonObject { ["group_size"] = spec.GroupSize, ["bits"] = bits };
        }
        if (spec.Reasoning != ReasoningStyle.Parsed)
            config["_emulator"] = new JsonObject
            {
                ["reasoning_style"] = spec.Reasoning == ReasoningStyle.InlineTags ? "inline" : "inline_closing_only",
            };
        return config;
    }

    static JsonObject TokenizerConfig(FixtureSpec spec)
    {
        var config = new JsonObject
        {
            ["add_bos_token"] = false,
            ["bos_token"] = null,
            ["eos_token"] = "<|im_end|>",
            ["pad_token"] = "<|endoftext|>",
            ["model_max_length"] = spec.ContextLength,
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
        };
        var template = ChatTemplates.For(spec.Template);
        if (template is not null && spec.TemplatePlacement == TemplatePlacement.TokenizerConfig)
            config["chat_template"] = template;
        if (template is not null && spec.TemplatePlacement == TemplatePlacement.TokenizerConfigList)
            config["chat_template"] = new JsonArray(
                new JsonObject { ["name"] = "default", ["template"] = ChatTemplates.ChatMl },
                new JsonObject { ["name"] = "tool_use", ["template"] = template });
        if (spec.ToolParserType is not null) config["tool_parser_type"] = spec.ToolParserType;
        return config;
    }

    static JsonObject Tokenizer()
    {
        var vocab = new JsonObject();
        int id = 0;
        foreach (var token in "abcdefghijklmnopqrstuvwxyz ".Select(c => c.ToString()).Concat(["<|im_start|>", "<|im_end|>", "<|endoftext|>"]))
            vocab[token] = id++;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray() },
        };
    }

    static JsonObject Preprocessor(FixtureSpec spec) => new()
    {
        ["image_processor_type"] = spec.ModelType.StartsWith("qwen", StringComparison.Ordinal) ? "Qwen2VLImageProcessor" : "Gemma3ImageProcessor",
        ["do_normalize"] = true,
        ["do_resize"] = true,
        ["image_mean"] = new JsonArray(0.5, 0.5, 0.5),
        ["image_std"] = new JsonArray(0.5, 0.5, 0.5),
        ["size"] = new JsonObject { ["height"] = 896, ["width"] = 896 },
        ["processor_class"] = spec.ModelType.StartsWith("qwen", StringComparison.Ordinal) ? "Qwen2_5_VLProcessor" : "Gemma3Processor",
    };

    static string ModelCard(FixtureSpec spec)
    {
        var tags = string.Concat(spec.Hub.Tags.Select(t => $"\n- {t}"));
        return $"""
            ---
            library_name: {spec.Hub.LibraryName ?? "mlx"}
            license: apache-2.0
            pipeline_tag: {spec.Hub.PipelineTag ?? "text-generation"}
            tags:{tags}
            ---

            # {spec.RepoId}

            A model fixture written by tools/ModelFixtures for MLX Manager's tests: a well-formed repo in the
            shape of an MLX conversion ({(spec.Bits is int b ? $"{b}-bit, group size {spec.GroupSize}" : spec.Dtype)}).
            Its weights are deterministic noise: it loads, it does not think.

            ```bash
            mlx_lm.generate --model {spec.RepoId} --prompt "hello"
            ```
            """;
    }

    static void WriteJson(string folder, string name, JsonNode node) =>
        File.WriteAllText(Path.Combine(folder, name), node.ToJsonString(Indented));
}
