using System.Buffers.Binary;
using System.Text;
using MlxManager.Core.Discovery;
using static MlxManager.Core.Tests.Discovery.SafetensorsTestFile;

namespace MlxManager.Core.Tests.Discovery;

public sealed class SafetensorsHeaderTests
{
    [Fact]
    public void Parse_RealFileBytes_ReadsTensorsMetadataAndSize()
    {
        var bytes = Build(
            [new Tensor("model.embed_tokens.weight", "BF16", 100, 16), new Tensor("model.norm.weight", "F32", 16), new Tensor("step", "I64")],
            new Dictionary<string, string> { ["format"] = "mlx" });

        var header = SafetensorsHeader.Parse(bytes);

        header.Tensors.Count.ShouldBe(3);
        var embed = header.Tensors.Single(t => t.Name == "model.embed_tokens.weight");
        embed.Dtype.ShouldBe("BF16");
        embed.Shape.ShouldBe([100L, 16L]);
        embed.ElementCount.ShouldBe(1600);
        embed.DataEnd.ShouldBe(3200);
        header.Tensors.Single(t => t.Name == "step").ElementCount.ShouldBe(1);
        header.Metadata["format"].ShouldBe("mlx");
        header.DataLength.ShouldBe(3200 + 64 + 8);
        header.ExpectedFileSize.ShouldBe(bytes.Length);
    }

    [Fact]
    public void Parse_OnlyTheHeaderPrefix_IsEnough()
    {
        var bytes = Build([new Tensor("w", "F16", 1024, 1024)]);
        var length = (int)SafetensorsHeader.ReadHeaderLength(bytes)!.Value;

        var header = SafetensorsHeader.Parse(bytes.AsSpan(0, 8 + length));

        header.ExpectedFileSize.ShouldBe(bytes.Length);
    }

    [Fact]
    public void TryParse_TruncatedHeader_ReportsHowManyBytesAreNeeded()
    {
        var bytes = Build([new Tensor("w", "F16", 4, 4)]);

        SafetensorsHeader.TryParse(bytes.AsSpan(0, 20), out var header, out var error).ShouldBeFalse();

        header.ShouldBeNull();
        error!.ShouldContain("only 20 available");
    }

    [Fact]
    public void TryParse_AbsurdHeaderLength_IsRejected()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);

        SafetensorsHeader.TryParse(bytes, out _, out var error).ShouldBeFalse();
        error!.ShouldContain("outside");
    }

    [Fact]
    public void TryParse_HeaderThatIsNotJson_IsRejected()
    {
        var json = Encoding.UTF8.GetBytes("{not json}");
        var bytes = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);

        SafetensorsHeader.TryParse(bytes, out _, out var error).ShouldBeFalse();
        error!.ShouldContain("not valid JSON");
    }

    [Fact]
    public void TryParse_TensorWithoutOffsets_IsRejected()
    {
        var json = Encoding.UTF8.GetBytes("""{"w":{"dtype":"F16","shape":[2]}}""");
        var bytes = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);

        SafetensorsHeader.TryParse(bytes, out _, out var error).ShouldBeFalse();
        error!.ShouldContain("data_offsets");
    }

    [Fact]
    public void ReadHeaderLength_FewerThanEightBytes_IsNull()
    {
        SafetensorsHeader.ReadHeaderLength(new byte[7]).ShouldBeNull();
    }
}
