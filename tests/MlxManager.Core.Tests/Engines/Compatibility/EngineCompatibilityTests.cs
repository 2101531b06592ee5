using MlxManager.Core.Discovery;
using MlxManager.Core.Engines;
using MlxManager.Core.Engines.Compatibility;

namespace MlxManager.Core.Tests.Engines.Compatibility;

/// <summary>Which engines can load a model, from the engines' own architecture lists, on real models and on fixtures.</summary>
public sealed class EngineCompatibilityTests : IDisposable
{
    private static readonly ModelCharacteristicsDetector Detector = new();
    private readonly string _root = Directory.CreateTempSubdirectory("compat-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static async Task<CompatibilityReport> RealModel(string folder)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "RealModels", folder);
        Directory.Exists(path).ShouldBeTrue($"{path} is copied to the test output");
        var model = await Detector.DetectAsync(new FolderModelFileSource(path, folder.Replace("--", "/", StringComparison.Ordinal)));
        return EngineCompatibility.Shipped.Check(model);
    }

    private async Task<CompatibilityReport> Fixture(string configJson, params (string Name, string Text)[] files)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, Guid.NewGuid().ToString("N"))).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "config.json"), configJson);
        foreach (var (name, text) in files)
        {
            await File.WriteAllTextAsync(Path.Combine(folder, name), text);
        }

        return EngineCompatibility.Shipped.Check(await Detector.DetectAsync(new FolderModelFileSource(folder, "fixtures/model")));
    }

    // Every folder of RealModels/ (the 21 models of the shared real-models set), with what the 2026 lists say.
    [Theory]
    [InlineData("Qwen--Qwen2-VL-2B-Instruct-AWQ", "mlx_lm (text only) · mlx_vlm · mlx-openai-server")]
    [InlineData("Qwen--Qwen2.5-7B-Instruct", "mlx_lm · mlx_vlm · mlx-openai-server")]
    [InlineData("Qwen--Qwen2.5-VL-3B-Instruct", "mlx_lm (text only) · mlx_vlm · mlx-openai-server")]
    [InlineData("Qwen--Qwen3-4B", "mlx_lm · mlx_vlm · mlx-openai-server")]
    [InlineData("Qwen--Qwen3-VL-4B-Instruct", "mlx_lm (text only) · mlx_vlm · mlx-openai-server")]
    [InlineData("Qwen--Qwen3.5-0.8B", "mlx_lm (text only) · mlx_vlm · mlx-openai-server")]
    [InlineData("deepseek-ai--DeepSeek-R1-Distill-Qwen-32B", "mlx_lm · mlx_vlm · mlx-openai-server")]
    [InlineData("google--gemma-2-2b-it", "engines: unknown")]
    [InlineData("google--gemma-3-4b-it", "mlx_lm (text only) · mlx_vlm · mlx-openai-server")]
    [InlineData("google--gemma-4-E2B-it", "mlx_lm (text only) · mlx_vlm · mlx-openai-server")]
    [InlineData("llava-hf--llava-1.5-7b-hf", "mlx_lm (text only) · mlx_vlm · mlx-openai-server")]
    [InlineData("lmstudio-community--Qwen3-1.7B-MLX-bf16", "mlx_lm · mlx_vlm · mlx-openai-server")]
    [InlineData("lmstudio-community--Qwen3-14B-MLX-4bit", "mlx_lm · mlx_vlm · mlx-openai-server")]
    [InlineData("meta-llama--Llama-3.2-3B-Instruct", "mlx_lm · mlx_vlm · mlx-openai-server")]
    [InlineData("microsoft--Phi-3-mini-128k-instruct", "mlx_lm · mlx_vlm · mlx-openai-server")]
    [InlineData("microsoft--Phi-3.5-mini-instruct", "engines: unknown")]
    [InlineData("mistralai--Mistral-Nemo-Instruct-2407", "engines: unknown")]
    [InlineData("mlx-community--Qwen3.5-9B-MLX-8bit", "mlx_lm (text only) · mlx_vlm · mlx-openai-server")]
    [InlineData("openai--gpt-oss-20b", "mlx_lm · mlx_vlm · mlx-openai-server")]
    [InlineData("sentence-transformers--all-MiniLM-L6-v2", "embedding model · no engine")]
    [InlineData("zai-org--GLM-4.1V-9B-Thinking", "mlx_vlm · mlx-openai-server")]
    public async Task RealModels_ChipListsTheEnginesThatLoadThem(string folder, string summary)
    {
        (await RealModel(folder)).Summary.ShouldBe(summary);
    }

    [Fact]
    public void RealModels_AreAllCovered()
    {
        Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "RealModels")).Length.ShouldBe(21);
    }

    [Fact]
    public async Task Embedding_Bert_NoEngine_WithTheReason()
    {
        var report = await RealModel("sentence-transformers--all-MiniLM-L6-v2");

        report.IsEmbedding.ShouldBeTrue();
        report.AnyEngine.ShouldBeFalse();
        report.Tooltip.ShouldStartWith("config.json: model_type = \"bert\": an embedding model; no engine serves it as a chat model");
    }

    [Fact]
    public async Task Vision_ThroughMlxLm_SaysTextOnly_AndMlxOpenAiServerUsesMultimodal()
    {
        var report = await RealModel("Qwen--Qwen2.5-VL-3B-Instruct");

        var lm = report.For(MlxLmServer.EngineKey).ShouldNotBeNull();
        lm.Verdict.ShouldBe(EngineFitVerdict.TextOnly);
        lm.Reason.ShouldBe("mlx_lm 0.32.0 loads \"qwen2_5_vl\" (as qwen2_vl) as text only: the vision weights are dropped");
        report.For(MlxVlmServer.EngineKey)!.Reason.ShouldBe("mlx_vlm 0.6.15 loads \"qwen2_5_vl\" with vision");
        report.For(MlxOpenAiServer.EngineKey)!.Mode.ShouldBe("multimodal");
    }

    [Fact]
    public async Task Glm4v_IsNotInMlxLm_SaysSo()
    {
        var report = await RealModel("zai-org--GLM-4.1V-9B-Thinking");

        report.For(MlxLmServer.EngineKey)!.Reason.ShouldBe("\"glm4v\" is not in mlx_lm 0.32.0's models");
    }

    [Fact]
    public async Task TextFixture_LoadsEverywhere_OpenAiServerAsLm()
    {
        var report = await Fixture("""{"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "max_position_embeddings": 40960}""");

        report.Summary.ShouldBe("mlx_lm · mlx_vlm · mlx-openai-server");
        report.For(MlxOpenAiServer.EngineKey)!.Mode.ShouldBe("lm");
        report.Evidence.ShouldBe("config.json: model_type = \"qwen3\"");
    }

    [Fact]
    public async Task VisionFixture_MlxVlmLowerCasesAndRemaps()
    {
        var report = await Fixture("""{"model_type": "LFM2-VL", "vision_config": {"model_type": "siglip2"}}""", ("preprocessor_config.json", "{}"));

        report.For(MlxVlmServer.EngineKey)!.Reason.ShouldStartWith("mlx_vlm 0.6.15 loads \"LFM2-VL\" (as lfm2_vl)");
        report.For(MlxLmServer.EngineKey)!.Verdict.ShouldBe(EngineFitVerdict.Cannot, "mlx_lm looks up model types as written");
    }

    [Fact]
    public async Task EmbeddingFixture_ByTypeSuffix_IsAnEmbeddingModel()
    {
        var report = await Fixture("""{"model_type": "qwen3_embedding"}""");

        report.IsEmbedding.ShouldBeTrue();
        report.Summary.ShouldBe("embedding model · no engine");
    }

    [Fact]
    public async Task UnknownTypeFixture_NoEngine_TooltipNamesTheType()
    {
        var report = await Fixture("""{"model_type": "frobnicator"}""");

        report.Summary.ShouldBe("no engine");
        report.Evidence.ShouldBe("config.json: model_type = \"frobnicator\"; not in mlx_lm's or mlx_vlm's chat models");
        report.For(MlxLmServer.EngineKey)!.Reason.ShouldBe("\"frobnicator\" is not in mlx_lm 0.32.0's models");
    }

    [Fact]
    public async Task CustomModelFileFixture_EveryEngineMayLoadItsOwnCode()
    {
        var report = await Fixture("""{"model_type": "my_arch", "model_file": "my_arch.py"}""", ("my_arch.py", "class Model: pass\n"));

        report.Engines.ShouldAllBe(e => e.Verdict == EngineFitVerdict.CustomCode);
        report.Summary.ShouldBe("mlx_lm · mlx_vlm · mlx-openai-server");
        report.Evidence.ShouldContain("model_file = \"my_arch.py\"");
    }

    [Fact]
    public void NotDetected_IsUnknown_NotNoEngine()
    {
        EngineCompatibility.Shipped.Check(null).Summary.ShouldBe("engines: unknown");
    }

    [Fact]
    public void ShippedLists_NameTheirVersions_AndEveryEngine()
    {
        var lists = EngineArchitectures.Shipped;

        lists.Loaders["mlx_lm"].Version.ShouldBe("0.32.0");
        lists.Loaders["mlx_vlm"].Version.ShouldBe("0.6.15");
        lists.Engines.Keys.ShouldBe(EngineRegistry.Discover().All.Select(e => e.Key), ignoreOrder: true);
        lists.ListsVersionFor(MlxOpenAiServer.EngineKey).ShouldBe("1.8.1");
        lists.ListsVersionFor(MlxVlmServer.EngineKey).ShouldBe("0.6.15");
        foreach (var loader in lists.Loaders.Values)
        {
            loader.Remapping.Values.ShouldAllBe(target => loader.ModelTypes.Contains(target), "every remapping target is a module of the loader");
        }
    }
}
