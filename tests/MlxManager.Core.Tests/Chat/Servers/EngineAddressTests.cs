using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Discovery;

namespace MlxManager.Core.Tests.Chat.Servers;

public sealed class EngineAddressTests
{
    [Theory]
    [InlineData("127.0.0.1", 8080, "http://127.0.0.1:8080/")]
    [InlineData("0.0.0.0", 8081, "http://127.0.0.1:8081/")]
    [InlineData("", 8082, "http://127.0.0.1:8082/")]
    [InlineData("::", 8083, "http://[::1]:8083/")]
    [InlineData("::1", 8084, "http://[::1]:8084/")]
    [InlineData("localhost", 8085, "http://localhost:8085/")]
    public void BaseUri_IsBuiltFromHostAndPortOnly(string host, int port, string expected) =>
        EngineAddress.BaseUri(host, port).ToString().ShouldBe(expected);

    [Fact]
    public void BaseUri_RefusesAPortOutOfRange() =>
        Should.Throw<ArgumentOutOfRangeException>(() => EngineAddress.BaseUri("127.0.0.1", 70000));

    [Fact]
    public void ChatServer_PostsOnlyToItsProfilesAddress()
    {
        var server = new ChatServer(1, new Core.Profiles.Profile { Host = "127.0.0.1", Port = 9000 }, "m", ChatModelCapabilities.TextOnly, ChatServerState.Ready);

        server.ChatCompletionsUri.ToString().ShouldBe("http://127.0.0.1:9000/v1/chat/completions");
    }

    [Fact]
    public void Capabilities_ComeFromDetection_UnknownMeansNo()
    {
        var detected = new ModelCharacteristics
        {
            Vision = new Sourced<bool>(true, "config.json"),
            Tools = new Capability(null, CapabilityEvidence.Unknown, "?"),
            Thinking = new Capability(true, CapabilityEvidence.ChatTemplate, "t"),
            ThinkingOpensInPrompt = true,
        };

        ChatModelCapabilities.FromCharacteristics(detected).ShouldBe(new ChatModelCapabilities(true, false, true, true));
        ChatModelCapabilities.FromCharacteristics(null).ShouldBe(ChatModelCapabilities.TextOnly);
    }
}
