using MlxManager.Core.Discovery;
using MlxManager.Core.Tests.Library;
using MlxManager.ModelFixtures;

namespace MlxManager.Core.Tests.Discovery;

/// <summary>Detection over every shape tools/ModelFixtures writes (as RepoWriter writes it, read from the folder).</summary>
public sealed class FixtureCatalogDetectionTests
{
    public static TheoryData<string> Keys()
    {
        var data = new TheoryData<string>();
        foreach (var key in FixtureCatalog.Keys.Where(k => k != "large"))
        {
            data.Add(key);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task Detect_FixtureShape_FindsToolsThinkingVisionBitsAndContext(string key)
    {
        var spec = FixtureCatalog.Find(key)!;
        using var folder = new TemporaryDirectory();
        RepoWriter.Write(folder.Path, spec);

        var model = await new ModelCharacteristicsDetector().DetectAsync(new FolderModelFileSource(folder.Path, spec.RepoId));

        model.Problems.ShouldBeEmpty();
        model.ModelType.ShouldBe(spec.ModelType);
        model.Tools.Supported.ShouldBe(spec.Template is TemplateKind.LlamaTools or TemplateKind.QwenThinkingTools or TemplateKind.QwenVision, model.Tools.Source);
        model.Tools.Evidence.ShouldBe(CapabilityEvidence.ChatTemplate);
        model.Thinking.Supported.ShouldBe(spec.Template is TemplateKind.QwenThinkingTools or TemplateKind.DeepSeekR1, model.Thinking.Source);
        model.Vision.ShouldNotBeNull().Value.ShouldBe(spec.Vision);
        model.Quantization.ShouldNotBeNull().Bits.ShouldBe(spec.Bits);
        model.Quantization.GroupSize.ShouldBe(spec.GroupSize);
        model.Context.ShouldNotBeNull().Tokens.ShouldBe(spec.ContextLength);
        model.Context.Source.ShouldContain(spec.Vision ? "text_config.max_position_embeddings" : "max_position_embeddings");
        model.WeightBytes.ShouldNotBeNull().Value.ShouldBeGreaterThan(0);
        model.KvCache.ShouldNotBeNull().BytesPerToken.ShouldBeGreaterThan(0);
        model.Badges.Select(b => b.Kind).ShouldContain(BadgeKind.Quantization);
        model.Badges.ShouldAllBe(b => !string.IsNullOrWhiteSpace(b.Source));
    }

    [Fact]
    public async Task Detect_GemmaFixture_NotesTheSlidingWindow()
    {
        using var folder = new TemporaryDirectory();
        RepoWriter.Write(folder.Path, FixtureCatalog.GemmaVision);

        var model = await new ModelCharacteristicsDetector().DetectAsync(new FolderModelFileSource(folder.Path, FixtureCatalog.GemmaVision.RepoId));

        model.Context.ShouldNotBeNull().SlidingWindow.ShouldNotBeNull().Tokens.ShouldBe(FixtureCatalog.GemmaVision.SlidingWindow!.Value);
    }
}
