using MlxManager.EngineEmulator.Models;
using MlxManager.ModelFixtures;

namespace MlxManager.Tools.Tests.EngineEmulator.Models;

/// <summary>What the emulator reads from a model folder decides tools, thinking and vision, so every fixture
/// shape is checked: templates in tokenizer_config.json (string or list), chat_template.jinja and chat_template.json.</summary>
public sealed class ModelFolderTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("model-folder-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    ModelFolder Read(FixtureSpec spec) => ModelFolder.Read(RepoWriter.Write(Path.Combine(root, spec.Name), spec).Folder);

    [Theory]
    [InlineData("llama-tools", true, false, false)]
    [InlineData("qwen-thinking", true, true, false)]
    [InlineData("gemma-vision", false, false, true)]
    [InlineData("qwen-vision", true, false, true)]
    [InlineData("phi-8bit", false, false, false)]
    [InlineData("deepseek-r1", false, true, false)]
    [InlineData("inline-thinking", true, true, false)]
    public void Read_CatalogueFixture_DetectsToolsThinkingAndVision(string key, bool tools, bool thinking, bool vision)
    {
        var folder = Read(FixtureCatalog.Find(key)!);

        folder.HasChatTemplate.ShouldBeTrue();
        folder.SupportsTools.ShouldBe(tools);
        folder.SupportsThinking.ShouldBe(thinking);
        folder.HasVisionConfig.ShouldBe(vision);
    }

    [Fact]
    public void Read_TemplateList_CountsEveryNamedTemplate()
    {
        var folder = Read(FixtureCatalog.LlamaTools with { TemplatePlacement = TemplatePlacement.TokenizerConfigList });

        folder.ChatTemplates.Count.ShouldBe(2);
        folder.SupportsTools.ShouldBeTrue();
    }

    [Fact]
    public void Read_EmulatorReasoningStyle_IsHonoured()
    {
        Read(FixtureCatalog.DeepSeekR1).Thinking.ShouldBe(ThinkingMarkup.InlineClosingOnly);
        Read(FixtureCatalog.InlineThinking).Thinking.ShouldBe(ThinkingMarkup.InlineTags);
        Read(FixtureCatalog.QwenThinking).Thinking.ShouldBe(ThinkingMarkup.Parsed);
    }

    [Fact]
    public void Read_ToolParserType_AloneEnablesTools()
    {
        Read(FixtureCatalog.Phi8Bit with { ToolParserType = "json_tools" }).SupportsTools.ShouldBeTrue();
    }

    [Fact]
    public void Read_VisionModel_TakesContextFromTextConfig()
    {
        Read(FixtureCatalog.GemmaVision).ContextLength.ShouldBe(131072);
        Read(FixtureCatalog.GemmaVision).ModelType.ShouldBe("gemma3");
    }

    [Theory]
    [InlineData("{# tools are not rendered #}{{ messages }}", false)]
    [InlineData("{%- if tools %}{{ tools | tojson }}{% endif %}", true)]
    [InlineData("{{ 'tools' }}", false)]
    [InlineData("{%- set custom_tools = none %}", false)]
    public void RendersTools_OnlyCountsTheVariable(string template, bool expected)
    {
        ModelFolder.RendersTools(template).ShouldBe(expected);
    }

    [Fact]
    public void Support_LoadersKnowTheirModelTypes()
    {
        ModelSupport.MlxLmModule("qwen2_5_vl").ShouldBe("qwen2_vl");
        ModelSupport.MlxLmModule("mistral").ShouldBe("llama");
        ModelSupport.MlxLmModule("frobnicator").ShouldBeNull();
        ModelSupport.MlxVlmSupports("gemma3").ShouldBeTrue();
        ModelSupport.MlxVlmSupports("frobnicator").ShouldBeFalse();
    }
}
