using MlxManager.Core.Engines;

namespace MlxManager.Core.Tests.Engines;

public sealed class MaskedPreviewTests
{
    [Fact]
    public void MaskedPreview_ShowsEveryVariablesNameButNoValue()
    {
        var command = new EngineCommand(
            "/opt/mlx/bin/mlx_lm.server",
            ["--port", "8080"],
            new Dictionary<string, string> { ["HF_TOKEN"] = "hf_secret value", ["A_FIRST"] = "1" });

        command.MaskedPreview.ShouldBe("A_FIRST=*** HF_TOKEN=*** /opt/mlx/bin/mlx_lm.server --port 8080");
        command.Preview.ShouldContain("HF_TOKEN='hf_secret value'", customMessage: "the admin's preview keeps the values");
    }
}
