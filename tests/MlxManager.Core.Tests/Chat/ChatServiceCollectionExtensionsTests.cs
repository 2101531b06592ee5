using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

public class ChatServiceCollectionExtensionsTests
{
    [Fact]
    public void AddChatCore_ResolvesTheServices_AndBindsMaxToolRounds()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["MlxManager:Chat:MaxToolRounds"] = "3" }).Build();
        using var provider = new ServiceCollection().AddLogging().AddChatCore(configuration).BuildServiceProvider();

        provider.GetRequiredService<ChatStreamReader>().ShouldNotBeNull();
        provider.GetRequiredService<ChatMarkdown>().ShouldNotBeNull();
        provider.GetRequiredService<ToolLoopOptions>().MaxToolRounds.ShouldBe(3);
    }

    [Fact]
    public void AddChatCore_RejectsAnAbsurdRoundLimit()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["MlxManager:Chat:MaxToolRounds"] = "1000" }).Build();
        using var provider = new ServiceCollection().AddLogging().AddChatCore(configuration).BuildServiceProvider();

        Should.Throw<OptionsValidationException>(() => provider.GetRequiredService<ToolLoopOptions>()).Message.ShouldContain("MaxToolRounds");
    }
}
