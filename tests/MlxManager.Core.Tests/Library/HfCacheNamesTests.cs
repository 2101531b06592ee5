using MlxManager.Core.Library;

namespace MlxManager.Core.Tests.Library;

public sealed class HfCacheNamesTests
{
    [Theory]
    [InlineData("models--mlx-community--Qwen3-4B-4bit", "mlx-community/Qwen3-4B-4bit")]
    [InlineData("models--org--name--with--dashes", "org/name--with--dashes")]
    [InlineData("models--gpt2", "gpt2")]
    public void TryParseModelFolderName_SplitsOnceOnTheFirstSeparator(string folder, string repoId)
    {
        HfCacheNames.TryParseModelFolderName(folder, out var parsed).ShouldBeTrue();
        parsed.ShouldBe(repoId);
    }

    [Theory]
    [InlineData("datasets--org--data")]
    [InlineData("models--")]
    [InlineData("models----name")]
    [InlineData("models--org--")]
    [InlineData(".locks")]
    public void TryParseModelFolderName_RejectsOtherFolders(string folder)
    {
        HfCacheNames.TryParseModelFolderName(folder, out _).ShouldBeFalse();
    }

    [Fact]
    public void ModelFolderName_IsTheInverse()
    {
        HfCacheNames.ModelFolderName("org/name--with--dashes").ShouldBe("models--org--name--with--dashes");
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("org/../x")]
    [InlineData("a/b/c")]
    [InlineData("")]
    [InlineData("org/na me")]
    public void ModelFolderName_RefusesPathTricks(string repoId)
    {
        Should.Throw<ArgumentException>(() => HfCacheNames.ModelFolderName(repoId));
    }
}
