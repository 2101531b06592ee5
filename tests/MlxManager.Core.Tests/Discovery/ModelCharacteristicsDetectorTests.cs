using System.Text.Json;
using MlxManager.Core.Discovery;
using MlxManager.Core.Tests.Library;
using static MlxManager.Core.Tests.Discovery.SafetensorsTestFile;

namespace MlxManager.Core.Tests.Discovery;

public sealed class ModelCharacteristicsDetectorTests
{
    private const string QwenLikeConfig = """
        {"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "hidden_size": 256, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "intermediate_size": 512,
         "vocab_size": 1000, "max_position_embeddings": 8192, "torch_dtype": "bfloat16"}
        """;

    private static readonly ModelCharacteristicsDetector Detector = new();

    private static Task<ModelCharacteristics> Detect(Dictionary<string, string> texts, DetectionHints? hints = null, string? repoId = "org/model") =>
        Detector.DetectAsync(InMemoryModelFileSource.FromTexts(texts, repoId), hints);

    [Fact]
    public async Task Detect_ListOfNamedTemplates_FindsToolsInTheToolUseTemplate()
    {
        var tokenizer = JsonSerializer.Serialize(new
        {
            chat_template = new object[]
            {
                new { name = "default", template = "{% for m in messages %}{{ m.content }}{% endfor %}" },
                new { name = "tool_use", template = "{% for t in tools %}{{ t | tojson }}{% endfor %}" },
            },
        });

        var model = await Detect(new() { ["tokenizer_config.json"] = tokenizer });

        model.Tools.Supported.ShouldBe(true);
        model.Tools.Source.ShouldStartWith("tokenizer_config.json: chat_template[tool_use]");
        model.Problems.ShouldBeEmpty();
    }

    [Fact]
    public async Task Detect_TemplateInChatTemplateJson_IsRead()
    {
        var model = await Detect(new()
        {
            ["tokenizer_config.json"] = "{}",
            ["chat_template.json"] = """{"chat_template": "{% if enable_thinking %}<think>{% endif %}{{ messages[0].content }}"}""",
        });

        model.Thinking.Supported.ShouldBe(true);
        model.Thinking.Source.ShouldStartWith("chat_template.json: chat_template");
        model.Tools.Supported.ShouldBe(false);
        model.Tools.Evidence.ShouldBe(CapabilityEvidence.ChatTemplate);
    }

    [Fact]
    public async Task Detect_ToolsOnlyMentionedInCommentAndProse_IsNotToolUse()
    {
        var model = await Detect(new()
        {
            ["tokenizer_config.json"] = JsonSerializer.Serialize(new
            {
                chat_template = "{# tools: not supported by this model #}You have no tools.{% for m in messages %}{{ m.content }}{% endfor %}",
            }),
        });

        model.Tools.Supported.ShouldBe(false);
        model.Badges.ShouldNotContain(b => b.Kind == BadgeKind.Tools);
    }

    [Fact]
    public async Task Detect_NoFilesAtAll_EverythingUnknownWithoutProblems()
    {
        var model = await Detector.DetectAsync(new InMemoryModelFileSource("org/empty", []));

        model.Architecture.ShouldBeNull();
        model.Context.ShouldBeNull();
        model.Parameters.ShouldBeNull();
        model.Vision.ShouldBeNull();
        model.Audio.ShouldBeNull();
        model.KvCache.ShouldBeNull();
        model.Quantization.ShouldBeNull();
        model.WeightBytes.ShouldBeNull();
        model.Tools.Supported.ShouldBeNull();
        model.Thinking.Supported.ShouldBeNull();
        model.Problems.ShouldBeEmpty();
        model.Badges.ShouldBeEmpty();
    }

    [Fact]
    public async Task Detect_MalformedConfig_RecordsProblemAndUsesTheOtherFiles()
    {
        var model = await Detect(new()
        {
            ["config.json"] = "{\"model_type\": \"llama\", ",
            ["tokenizer_config.json"] = JsonSerializer.Serialize(new { chat_template = "{% if tools %}{{ tools }}{% endif %}" }),
        });

        model.Problems.ShouldHaveSingleItem().ShouldStartWith("config.json is not valid JSON");
        model.Architecture.ShouldBeNull();
        model.Tools.Supported.ShouldBe(true);
    }

    [Fact]
    public async Task Detect_ConfigThatIsNotAnObject_RecordsProblem()
    {
        var model = await Detect(new() { ["config.json"] = "[1, 2]" });

        model.Problems.ShouldBe(["config.json is not a JSON object"]);
    }

    [Fact]
    public async Task Detect_ChatTemplateOfWrongType_RecordsProblem()
    {
        var model = await Detect(new() { ["tokenizer_config.json"] = """{"chat_template": 42}""" });

        model.Problems.ShouldHaveSingleItem().ShouldContain("neither a string nor a list");
    }

    [Fact]
    public async Task Detect_ListedFileWhoseTextWasNotFetched_IsAProblemNotAnAbsence()
    {
        var source = new InMemoryModelFileSource("org/model", [new ModelFileEntry("config.json", 500), new ModelFileEntry("tokenizer_config.json", 900)],
            new Dictionary<string, string> { ["config.json"] = QwenLikeConfig });

        var model = await Detector.DetectAsync(source);

        model.Problems.ShouldBe(["tokenizer_config.json is listed but its content was not available"]);
        model.Tools.Supported.ShouldBeNull();
    }

    [Fact]
    public async Task Detect_ToolParserTypeWithoutToolsInTemplate_SupportsTools()
    {
        var model = await Detect(new()
        {
            ["tokenizer_config.json"] = JsonSerializer.Serialize(new { tool_parser_type = "json_tools", chat_template = "{{ messages[0].content }}" }),
        });

        model.Tools.Supported.ShouldBe(true);
        model.Tools.Evidence.ShouldBe(CapabilityEvidence.TokenizerConfig);
        model.Tools.Source.ShouldBe("tokenizer_config.json: tool_parser_type = \"json_tools\"");
    }

    [Fact]
    public async Task Detect_HubTagsWithoutTemplate_AreALabelledFallback()
    {
        var model = await Detect(new() { ["config.json"] = QwenLikeConfig }, new DetectionHints(["mlx", "tool-use", "reasoning"]));

        model.Tools.Supported.ShouldBe(true);
        model.Tools.Evidence.ShouldBe(CapabilityEvidence.HubTagOnly);
        model.Badges.Single(b => b.Kind == BadgeKind.Tools).Label.ShouldBe("tools (hub tag only)");
        model.Badges.Single(b => b.Kind == BadgeKind.Thinking).Label.ShouldBe("thinking (hub tag only)");
    }

    [Fact]
    public async Task Detect_HubTagsWhenTemplateWasRead_AreIgnored()
    {
        var model = await Detect(
            new() { ["tokenizer_config.json"] = JsonSerializer.Serialize(new { chat_template = "{{ messages[0].content }}" }) },
            new DetectionHints(["tool-use"]));

        model.Tools.Supported.ShouldBe(false);
        model.Tools.Evidence.ShouldBe(CapabilityEvidence.ChatTemplate);
    }

    [Fact]
    public async Task Detect_PreprocessorWithoutVisionConfig_IsVision()
    {
        var model = await Detect(new()
        {
            ["config.json"] = QwenLikeConfig,
            ["preprocessor_config.json"] = """{"image_processor_type": "SiglipImageProcessor", "image_mean": [0.5, 0.5, 0.5]}""",
        });

        model.Vision!.Value.ShouldBeTrue();
        model.Vision.Source.ShouldBe("preprocessor_config.json: image_processor_type (an image processor)");
    }

    [Fact]
    public async Task Detect_WhisperStylePreprocessor_IsAudio()
    {
        var model = await Detect(new()
        {
            ["config.json"] = QwenLikeConfig,
            ["preprocessor_config.json"] = """{"feature_extractor_type": "WhisperFeatureExtractor", "sampling_rate": 16000}""",
        });

        model.Audio!.Value.ShouldBeTrue();
        model.Vision!.Value.ShouldBeFalse();
    }

    [Fact]
    public async Task Detect_MixedMlxQuantization_IsNoted()
    {
        var config = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model_type"] = "llama",
            ["quantization"] = new Dictionary<string, object>
            {
                ["group_size"] = 64,
                ["bits"] = 4,
                ["model.layers.0.mlp.down_proj"] = new { group_size = 64, bits = 8 },
                ["model.layers.1.mlp.down_proj"] = new { group_size = 64, bits = 8 },
                ["lm_head"] = false,
            },
        });

        var model = await Detect(new() { ["config.json"] = config });

        model.Quantization!.Label.ShouldBe("4-bit g64 mixed");
        model.Quantization.MixedLayers.ShouldBe(2);
        model.Quantization.Source.ShouldContain("2 layers have their own settings (8-bit)");
    }

    [Fact]
    public async Task Detect_MlxQuantizedSafetensors_CountsUnpackedParametersPerLayerBits()
    {
        using var folder = new TemporaryDirectory();
        folder.WriteText("config.json", """
            {"model_type": "llama", "hidden_size": 256, "num_hidden_layers": 1, "num_attention_heads": 4,
             "quantization": {"group_size": 64, "bits": 4, "model.layers.0.mlp.down_proj": {"group_size": 64, "bits": 8}}}
            """);
        Write(folder.Combine("model.safetensors"), [
            .. QuantizedLinear("model.embed_tokens", 1000, 256, bits: 4),
            .. QuantizedLinear("model.layers.0.self_attn.q_proj", 256, 256, bits: 4),
            .. QuantizedLinear("model.layers.0.mlp.down_proj", 256, 256, bits: 8),
            new Tensor("model.norm.weight", "BF16", 256),
        ]);

        var model = await Detector.DetectAsync(new FolderModelFileSource(folder.Path, "org/tiny-4bit"));

        model.Parameters!.Method.ShouldBe(ParameterCountMethod.SafetensorsHeaders);
        model.Parameters.Value.ShouldBe((1000L * 256) + (256L * 256) + (256L * 256) + 256);
        model.Parameters.Source.ShouldContain("3 packed quantized tensors unpacked (4-bit/8-bit), 6 scales/biases not counted");
        model.WeightBytes!.Value.ShouldBe(new FileInfo(folder.Combine("model.safetensors")).Length);
        model.Badges.Single(b => b.Kind == BadgeKind.Size).Label.ShouldEndWith("KB");
    }

    [Fact]
    public async Task Detect_PackedWeightsWithoutDeclaredBits_InfersBitsFromShapes()
    {
        using var folder = new TemporaryDirectory();
        folder.WriteText("config.json", """{"model_type": "llama"}""");
        Write(folder.Combine("model.safetensors"), QuantizedLinear("model.layers.0.self_attn.q_proj", 128, 512, bits: 8));

        var model = await Detector.DetectAsync(new FolderModelFileSource(folder.Path));

        model.Parameters!.Value.ShouldBe(128L * 512);
        model.Problems.ShouldBeEmpty();
    }

    [Fact]
    public async Task Detect_ShardedUnquantizedSafetensors_SumsAllShards()
    {
        using var folder = new TemporaryDirectory();
        folder.WriteText("config.json", QwenLikeConfig);
        Write(folder.Combine("model-00001-of-00002.safetensors"), [new Tensor("a", "BF16", 1000, 256)]);
        Write(folder.Combine("model-00002-of-00002.safetensors"), [new Tensor("b", "BF16", 256, 256), new Tensor("c", "F32", 256)]);

        var model = await Detector.DetectAsync(new FolderModelFileSource(folder.Path));

        model.Parameters!.Value.ShouldBe((1000L * 256) + (256L * 256) + 256);
        model.Parameters.Source.ShouldStartWith("safetensors headers (2 files)");
        model.Badges.Single(b => b.Kind == BadgeKind.Parameters).Label.ShouldBe("322K");
    }

    [Fact]
    public async Task Detect_AwqQweight_CountsPackedValues()
    {
        using var folder = new TemporaryDirectory();
        folder.WriteText("config.json", """{"model_type": "qwen2", "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}}""");
        Write(folder.Combine("model.safetensors"), [
            new Tensor("l.qweight", "I32", 512, 64),
            new Tensor("l.qzeros", "I32", 4, 64),
            new Tensor("l.scales", "F16", 4, 512),
        ]);

        var model = await Detector.DetectAsync(new FolderModelFileSource(folder.Path));

        model.Parameters!.Value.ShouldBe(512L * 512);
    }

    [Fact]
    public async Task Detect_HeaderBytesFromRangeRequest_AreUsedInMemory()
    {
        var bytes = Build([new Tensor("w", "BF16", 2048, 1024)]);
        var headerLength = (int)MlxManager.Core.Discovery.SafetensorsHeader.ReadHeaderLength(bytes)!.Value;
        var source = new InMemoryModelFileSource(
            "org/model",
            [new ModelFileEntry("config.json", 100), new ModelFileEntry("model.safetensors", bytes.Length)],
            new Dictionary<string, string> { ["config.json"] = QwenLikeConfig },
            new Dictionary<string, byte[]> { ["model.safetensors"] = bytes[..(8 + headerLength)] });

        var model = await Detector.DetectAsync(source);

        model.Parameters!.Value.ShouldBe(2048L * 1024);
        model.Parameters.Method.ShouldBe(ParameterCountMethod.SafetensorsHeaders);
        model.WeightBytes!.Value.ShouldBe(bytes.Length);
    }

    [Fact]
    public async Task Detect_TruncatedHeaderBytes_RecordsProblemAndFallsBackToIndex()
    {
        var bytes = Build([new Tensor("w", "BF16", 2048, 1024)]);
        var source = new InMemoryModelFileSource(
            "org/model",
            [new ModelFileEntry("config.json", 100), new ModelFileEntry("model.safetensors.index.json", 100), new ModelFileEntry("model.safetensors", bytes.Length)],
            new Dictionary<string, string>
            {
                ["config.json"] = QwenLikeConfig,
                ["model.safetensors.index.json"] = """{"metadata": {"total_size": 4194304}, "weight_map": {"w": "model.safetensors"}}""",
            },
            new Dictionary<string, byte[]> { ["model.safetensors"] = bytes[..40] });

        var model = await Detector.DetectAsync(source);

        model.Problems.ShouldHaveSingleItem().ShouldContain("model.safetensors: safetensors header unreadable");
        model.Parameters!.Method.ShouldBe(ParameterCountMethod.IndexTotalSize);
        model.Parameters.Value.ShouldBe(2_097_152);
        model.Parameters.IsEstimate.ShouldBeTrue();
    }

    [Fact]
    public async Task Detect_IndexTotalParameters_IsExact()
    {
        var model = await Detect(new()
        {
            ["config.json"] = QwenLikeConfig,
            ["model.safetensors.index.json"] = """{"metadata": {"total_size": 999, "total_parameters": 1234567}, "weight_map": {}}""",
        });

        model.Parameters!.Value.ShouldBe(1_234_567);
        model.Parameters.Method.ShouldBe(ParameterCountMethod.IndexTotalParameters);
        model.Badges.Single(b => b.Kind == BadgeKind.Parameters).Label.ShouldBe("1.2M");
    }

    [Fact]
    public async Task Detect_QuantizedIndexTotalSize_DividesByBytesPerQuantizedParameter()
    {
        var model = await Detect(new()
        {
            ["config.json"] = """{"model_type": "qwen3", "quantization": {"group_size": 64, "bits": 4}}""",
            ["model.safetensors.index.json"] = """{"metadata": {"total_size": 4500000000}, "weight_map": {}}""",
        });

        // 4-bit with a bf16 scale and bias per 64 weights: 4.5 bits = 0.5625 bytes per parameter.
        model.Parameters!.Value.ShouldBe(8_000_000_000);
        model.Parameters.Source.ShouldContain("0.5625 bytes per parameter");
    }

    [Fact]
    public async Task Detect_HubSafetensorsMetadata_UnpacksPackedCounts()
    {
        var hints = new DetectionHints(HubSafetensorsParameters: new Dictionary<string, long> { ["U32"] = 1_000_000, ["BF16"] = 300_000 });

        var model = await Detect(new() { ["config.json"] = """{"model_type": "qwen3", "quantization": {"group_size": 64, "bits": 4}}""" }, hints);

        // 1M U32 = 8M 4-bit weights; their scales and biases (2 × 8M / 64 = 250K) are among the BF16 count.
        model.Parameters!.Value.ShouldBe(8_000_000 + 50_000);
        model.Parameters.Method.ShouldBe(ParameterCountMethod.HubSafetensorsMetadata);
    }

    [Fact]
    public async Task Detect_Result_RoundTripsThroughJson()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "RealModels", "google--gemma-3-4b-it");
        var model = await Detector.DetectAsync(new FolderModelFileSource(path, "google/gemma-3-4b-it"));

        var json = JsonSerializer.Serialize(model);
        var back = JsonSerializer.Deserialize<ModelCharacteristics>(json)!;

        json.ShouldContain("\"Evidence\":\"ChatTemplate\"");
        back.Context!.SlidingWindow!.Tokens.ShouldBe(1024);
        back.KvCache!.BytesAt(4096).ShouldBe(model.KvCache!.BytesAt(4096));
        back.Badges.ShouldBe(model.Badges);
        back.Tools.ShouldBe(model.Tools);
        back.DetectorVersion.ShouldBe(ModelCharacteristicsDetector.Version);
    }

    [Fact]
    public void IsMetadataFile_SelectsWhatAHubJobShouldFetch()
    {
        ModelCharacteristicsDetector.IsMetadataFile("config.json").ShouldBeTrue();
        ModelCharacteristicsDetector.IsMetadataFile("chat_template.jinja").ShouldBeTrue();
        ModelCharacteristicsDetector.IsMetadataFile("additional_chat_templates/tool_use.jinja").ShouldBeTrue();
        ModelCharacteristicsDetector.IsMetadataFile("model-00001-of-00002.safetensors").ShouldBeFalse();
        ModelCharacteristicsDetector.IsMetadataFile("tokenizer.json").ShouldBeFalse();
    }

    [Fact]
    public async Task FolderSource_PathOutsideTheFolder_IsNotRead()
    {
        using var folder = new TemporaryDirectory();
        folder.WriteText("model/config.json", "{}");
        folder.WriteText("secret.txt", "no");
        var source = new FolderModelFileSource(folder.Combine("model"));

        (await source.ReadTextAsync("../secret.txt")).ShouldBeNull();
        (await source.ReadTextAsync("/etc/passwd")).ShouldBeNull();
        (await source.ReadTextAsync("config.json")).ShouldBe("{}");
    }

    [Fact]
    public async Task FolderSource_SymlinkedFiles_ListTargetSizes_AndDanglingLinksAsUnknown()
    {
        using var folder = new TemporaryDirectory();
        folder.WriteText("blobs/abc", new string('x', 1234));
        Directory.CreateDirectory(folder.Combine("snap"));
        File.CreateSymbolicLink(folder.Combine("snap", "config.json"), "../blobs/abc");
        File.CreateSymbolicLink(folder.Combine("snap", "model.safetensors"), "../blobs/missing");

        var files = await new FolderModelFileSource(folder.Combine("snap")).ListFilesAsync();

        files.ShouldBe([new ModelFileEntry("config.json", 1234), new ModelFileEntry("model.safetensors", null)]);
    }
}
