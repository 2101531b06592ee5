using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Profiles;

public sealed class ProfileDefaultsTests
{
    [Theory]
    [InlineData(false, null, 4096)]
    [InlineData(true, null, 16384)]
    [InlineData(false, 512, 256)]
    [InlineData(false, 4096, 2048)]
    [InlineData(false, 8192, 4096)]
    [InlineData(true, 16384, 8192)]
    [InlineData(true, 40960, 16384)]
    public void MaxTokensFor_StaysBelowTheModelsContext(bool thinks, int? context, int expected)
    {
        ProfileDefaults.MaxTokensFor(thinks, context).ShouldBe(expected);
    }
}
