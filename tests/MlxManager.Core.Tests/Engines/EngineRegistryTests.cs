using MlxManager.Core.Engines;

namespace MlxManager.Core.Tests.Engines;

public class EngineRegistryTests
{
    [Fact]
    public void Discover_FindsEveryEngineDefinedInTheAssembly()
    {
        EngineRegistry.Discover().All.Select(e => e.Key)
            .ShouldBe(["mlx_lm.server", "mlx_vlm.server", "mlx-openai-server"]);
    }

    [Fact]
    public void Suggest_ForAVisionModel_ProposesMlxVlmServer()
    {
        var suggestion = EngineRegistry.Discover().Suggest(isVision: true);

        suggestion.Engine.Key.ShouldBe(MlxVlmServer.EngineKey);
        suggestion.Reason.ShouldContain("images");
    }

    [Fact]
    public void Suggest_ForATextModel_ProposesMlxLmServer()
    {
        EngineRegistry.Discover().Suggest(isVision: false).Engine.Key.ShouldBe(MlxLmServer.EngineKey);
    }

    [Fact]
    public void Get_WhenTheKeyIsUnknown_NamesTheKnownEngines()
    {
        Should.Throw<KeyNotFoundException>(() => EngineRegistry.Discover().Get("llama-server"))
            .Message.ShouldContain("mlx_lm.server, mlx_vlm.server, mlx-openai-server");
    }

    [Fact]
    public void Constructor_WhenTwoDefinitionsShareAKey_Fails()
    {
        Should.Throw<InvalidOperationException>(() => new EngineRegistry([new MlxLmServer(), new MlxLmServer()]))
            .Message.ShouldContain("mlx_lm.server");
    }
}
