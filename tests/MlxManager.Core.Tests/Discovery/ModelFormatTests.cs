using MlxManager.Core.Discovery;

namespace MlxManager.Core.Tests.Discovery;

public sealed class ModelFormatTests
{
    [Theory]
    [InlineData(7_615_616_512, "7.6B")]
    [InlineData(4_022_468_096, "4B")]
    [InlineData(14_768_307_200, "14.8B")]
    [InlineData(235_000_000_000, "235B")]
    [InlineData(494_032_768, "494M")]
    [InlineData(22_713_216, "22.7M")]
    [InlineData(999, "999")]
    public void Parameters_IsShort(long count, string expected) => ModelFormat.Parameters(count).ShouldBe(expected);

    [Theory]
    [InlineData(32768, "32K")]
    [InlineData(131072, "128K")]
    [InlineData(128000, "128K")]
    [InlineData(40960, "40K")]
    [InlineData(262144, "256K")]
    [InlineData(1_048_576, "1M")]
    [InlineData(1_000_000, "1M")]
    [InlineData(4096, "4K")]
    [InlineData(512, "512")]
    public void Tokens_IsShort(long tokens, string expected) => ModelFormat.Tokens(tokens).ShouldBe(expected);

    [Theory]
    [InlineData(4_200_000_000, "4.2 GB")]
    [InlineData(850_000_000, "850 MB")]
    [InlineData(16_060_000_000, "16.1 GB")]
    [InlineData(123, "123 B")]
    public void Bytes_IsDecimal(long bytes, string expected) => ModelFormat.Bytes(bytes).ShouldBe(expected);

    [Theory]
    [InlineData(147_456, "144 KiB")]
    [InlineData(6_039_797_760, "5.6 GiB")]
    public void BinaryBytes_IsBinary(long bytes, string expected) => ModelFormat.BinaryBytes(bytes).ShouldBe(expected);
}
