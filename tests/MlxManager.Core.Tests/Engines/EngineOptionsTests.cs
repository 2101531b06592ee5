using Microsoft.Extensions.Configuration;
using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;

namespace MlxManager.Core.Tests.Engines;

public class EngineOptionsTests
{
    [Fact]
    public void EngineOptions_BindFromTheDocumentedKeys()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                [EngineOptions.PathKey("mlx_lm.server")] = "/opt/venv/bin/mlx_lm.server",
                ["MlxManager:Engines:mlx-openai-server:Path"] = "~/bin/mlx-openai-server",
                ["MlxManager:Metrics:Interval"] = "00:00:01",
            })
            .Build();

        var engines = configuration.GetSection(EngineOptions.SectionName).Get<EngineOptions>().ShouldNotBeNull();
        var metrics = configuration.GetSection(MetricsOptions.SectionName).Get<MetricsOptions>().ShouldNotBeNull();

        EngineOptions.PathKey("mlx_lm.server").ShouldBe("MlxManager:Engines:mlx_lm.server:Path");
        engines.Engines["mlx_lm.server"].Path.ShouldBe("/opt/venv/bin/mlx_lm.server");
        engines.Engines["MLX-OPENAI-SERVER"].Path.ShouldBe("~/bin/mlx-openai-server");
        metrics.Interval.ShouldBe(TimeSpan.FromSeconds(1));
        metrics.HistoryWindow.ShouldBe(TimeSpan.FromMinutes(5));
    }
}
