using Microsoft.Extensions.Configuration;
using MlxManager.Core.Library;

namespace MlxManager.Core.Tests.Library;

public sealed class HfEnvironmentTests
{
    private const string Home = "/home/dev";

    private static HfEnvironment Resolve(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return HfEnvironment.Resolve(name => map.GetValueOrDefault(name), Home);
    }

    [Fact]
    public void Resolve_NothingSet_UsesHomeCacheAndTheOfficialEndpoint()
    {
        var environment = Resolve();

        environment.HfHome.ShouldBe("/home/dev/.cache/huggingface");
        environment.HubCache.ShouldBe("/home/dev/.cache/huggingface/hub");
        environment.TokenPath.ShouldBe("/home/dev/.cache/huggingface/token");
        environment.Endpoint.ShouldBe("https://huggingface.co");
        environment.Offline.ShouldBeFalse();
        environment.EnvironmentToken.ShouldBeNull();
    }

    [Fact]
    public void Resolve_XdgCacheHome_MovesHfHome()
    {
        Resolve(("XDG_CACHE_HOME", "/var/cache/dev")).HubCache.ShouldBe("/var/cache/dev/huggingface/hub");
    }

    [Fact]
    public void Resolve_HfHome_MovesCacheAndTokenAndWinsOverXdg()
    {
        var environment = Resolve(("HF_HOME", "/data/hf"), ("XDG_CACHE_HOME", "/ignored"));

        environment.HubCache.ShouldBe("/data/hf/hub");
        environment.TokenPath.ShouldBe("/data/hf/token");
    }

    [Fact]
    public void Resolve_HubCacheVariables_InTheirOrderOfPrecedence()
    {
        Resolve(("HF_HUB_CACHE", "/a"), ("HUGGINGFACE_HUB_CACHE", "/b"), ("HF_HOME", "/c")).HubCache.ShouldBe("/a");
        Resolve(("HUGGINGFACE_HUB_CACHE", "/b"), ("HF_HOME", "/c")).HubCache.ShouldBe("/b");
        Resolve(("HF_HOME", "/c")).HubCache.ShouldBe("/c/hub");
    }

    [Fact]
    public void Resolve_TildeAndVariables_AreExpanded()
    {
        var environment = Resolve(("HF_HOME", "~/hf"), ("HF_HUB_CACHE", "$DATA/models/${KIND}"), ("DATA", "/srv"), ("KIND", "hub"));

        environment.HfHome.ShouldBe("/home/dev/hf");
        environment.HubCache.ShouldBe("/srv/models/hub");
    }

    [Fact]
    public void Resolve_EndpointTrailingSlash_IsRemoved()
    {
        Resolve(("HF_ENDPOINT", "http://127.0.0.1:5005/")).Endpoint.ShouldBe("http://127.0.0.1:5005");
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("YES", true)]
    [InlineData("on", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    public void Resolve_HfHubOffline_ReadsPythonTruthValues(string value, bool offline)
    {
        Resolve(("HF_HUB_OFFLINE", value)).Offline.ShouldBe(offline);
    }

    [Fact]
    public void Resolve_TransformersOffline_IsTheFallback()
    {
        Resolve(("TRANSFORMERS_OFFLINE", "1")).Offline.ShouldBeTrue();
    }

    [Fact]
    public void ReadToken_EnvironmentWins_ThenTheTokenFile()
    {
        using var folder = new TemporaryDirectory();
        var tokenFile = folder.WriteText("hf/token", "  hf_fromfile\n");

        var fromEnvironment = Resolve(("HF_TOKEN", " hf_fromenv "), ("HF_HOME", folder.Combine("hf"))).ReadToken();
        var fromFile = Resolve(("HF_HOME", folder.Combine("hf"))).ReadToken();
        var fromCustomPath = Resolve(("HF_TOKEN_PATH", tokenFile)).ReadToken();
        var legacy = Resolve(("HUGGING_FACE_HUB_TOKEN", "hf_legacy")).ReadToken();

        fromEnvironment.ShouldBe("hf_fromenv");
        fromFile.ShouldBe("hf_fromfile");
        fromCustomPath.ShouldBe("hf_fromfile");
        legacy.ShouldBe("hf_legacy");
    }

    [Fact]
    public void ReadToken_NoTokenAnywhere_IsNull()
    {
        using var folder = new TemporaryDirectory();
        folder.WriteText("hf/token", "\n");

        Resolve(("HF_HOME", folder.Combine("hf"))).ReadToken().ShouldBeNull();
        Resolve(("HF_HOME", folder.Combine("nothing"))).ReadToken().ShouldBeNull();
    }

    [Fact]
    public void ToString_NeverShowsTheToken()
    {
        var text = Resolve(("HF_TOKEN", "hf_secret_value")).ToString();

        text.ShouldNotContain("hf_secret_value");
        text.ShouldContain("EnvironmentToken = (set)");
    }

    [Fact]
    public void ModelAndLockFolders_FollowTheCacheLayout()
    {
        var environment = Resolve(("HF_HUB_CACHE", "/c"));

        environment.ModelFolder("mlx-community/Qwen3-4B-4bit").ShouldBe("/c/models--mlx-community--Qwen3-4B-4bit");
        environment.LocksFolder("mlx-community/Qwen3-4B-4bit").ShouldBe("/c/.locks/models--mlx-community--Qwen3-4B-4bit");
    }

    [Fact]
    public void ApplyOverrides_FromConfiguration_ReplaceOnlyWhatIsSet()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HuggingFace:HubCache"] = "/configured/hub",
            ["HuggingFace:Endpoint"] = "http://localhost:9000/",
            ["HuggingFace:Offline"] = "true",
        }).Build();

        var environment = LibraryServiceCollectionExtensions.ApplyOverrides(Resolve(), configuration.GetSection("HuggingFace"));

        environment.HubCache.ShouldBe("/configured/hub");
        environment.Endpoint.ShouldBe("http://localhost:9000");
        environment.Offline.ShouldBeTrue();
        environment.TokenPath.ShouldBe("/home/dev/.cache/huggingface/token");
    }
}
