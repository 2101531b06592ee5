using System.Text;
using MlxManager.Core.Gateway;

namespace MlxManager.Core.Tests.Gateway;

public class ReasoningAliasTests
{
    [Fact]
    public void ADeltaWithOnlyReasoning_AlsoGetsReasoningContent()
    {
        var rewritten = ReasoningAlias.Rewrite("""{"choices":[{"index":0,"delta":{"reasoning":"Let me think"}}]}"""u8);

        Encoding.UTF8.GetString(rewritten.ShouldNotBeNull()).ShouldBe("""{"choices":[{"index":0,"delta":{"reasoning":"Let me think","reasoning_content":"Let me think"}}]}""");
    }

    [Theory]
    [InlineData("""{"choices":[{"delta":{"content":"Hi"}}]}""")]
    [InlineData("""{"choices":[{"message":{"reasoning":"a","reasoning_content":"a"}}]}""")]
    [InlineData("[DONE]")]
    public void PayloadsNeedingNoChange_AreLeftAsTheyAre(string payload)
    {
        ReasoningAlias.Rewrite(Encoding.UTF8.GetBytes(payload)).ShouldBeNull();
    }
}
